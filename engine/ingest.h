/* ingest.h — what the batch loop (ingest.c) and the record appliers
 * (apply.c) share. */
#ifndef IDG_INGEST_H
#define IDG_INGEST_H

#include "codec_json_in.h"
#include "db.h"
#include "record.h"

/* Why an ingest stops early: on_progress, after its batch committed; or
 * on_reject, with the batch in progress rolled back, so that the record
 * it stopped at (and the rest of its batch) is read again on resume. */
enum { IDG__STOP_NO, IDG__STOP_AFTER_COMMIT, IDG__STOP_ROLLBACK };

/* Everything one ingest call carries from record to record. */
struct ingest {
	struct idg__batch b;
	const struct idg_ingest_opts *opts;
	struct idg_ingest_stats stats;
	int64_t now_ms;   /* the wall clock at the batch's start */
	int64_t check_ms; /* at the ingest's start: the "after the wall
			     clock" check of every record (record.h) */
	uint64_t line;
	int stop;   /* a callback asked to stop: IDG__STOP_* */
	int format; /* enum idg_format, once known */
	struct idg__scratch scratch;  /* record validation's room */
	const struct idg__file *file; /* idg_ingest_file(): what it is */
	const unsigned char *file_key;
	struct hasher *hash; /* making file_key beside the ingest, or NULL */
	/* The file's entry as this ingest last saw or wrote it: another
	 * ingest of the same content changed it if it differs at a commit. */
	struct {
		int present, done;
		uint64_t offset;
	} seen;
};

/*
 * Takes one checked record (idg__record_check): applies it, or reports it
 * rejected. The idg__vrec_fn of the two-stage ingest (pipe.h).
 */
int idg__ingest_checked(void *ctx, const struct idg__vrec *v, uint32_t index,
			int in_array);

/*
 * A record idg__ingest_checked takes soon (stage 0: in about 8 records,
 * 1: in about 4): memory it will read is fetched meanwhile. A hint only.
 */
void idg__ingest_ahead(void *ctx, const struct idg__vrec *v, int stage);

/*
 * Takes one record as the codecs hand it over (or the reason it could not
 * be read): checks it, then as idg__ingest_checked. The idg__inrec_fn of
 * a one-thread ingest.
 */
int idg__ingest_record(void *ctx, const struct idg__inrec *jr, uint32_t index,
		       int in_array, const char *error);

#endif
