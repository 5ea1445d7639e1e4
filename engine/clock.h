/* clock.h — the clocks that ingest timings read, in seconds. */
#ifndef IDG_CLOCK_H
#define IDG_CLOCK_H

#include <time.h>

/* Wall time since an arbitrary start. */
static inline double
idg__clock_wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of the calling thread. */
static inline double
idg__clock_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#endif
