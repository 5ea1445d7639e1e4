#!/usr/bin/env python3
# A quick Mixpanel-shaped event stream for measurements: N events, ~3% of
# them $identify, anonymous $device ids and known users. Deterministic.
# Usage: bench/gen_events.py N > FILE
import json, random, sys, uuid
random.seed(1)
n=int(sys.argv[1]); t=1700000000000
out=sys.stdout
users=[f"user{i}@example.com" for i in range(n//20)]
for i in range(n):
    t+=random.randint(0,50)
    r=random.random()
    dev="$device:"+str(uuid.UUID(int=random.getrandbits(128)%(n//5)+1, version=4)) 
    if r<0.03:
        e={"event":"$identify","properties":{"distinct_id":random.choice(users),"$anon_distinct_id":dev,"time":t}}
    else:
        e={"event":random.choice(["Page View","Add To Cart","Purchase","Sign Up"]),"properties":{"distinct_id":dev if random.random()<0.6 else random.choice(users),"time":t,"$insert_id":"%024x"%random.getrandbits(96),"$browser":"Chrome","$current_url":"https://shop.example.com/p/%d"%random.randint(1,999),"mp_lib":"web","price":round(random.random()*100,2)}}
    out.write(json.dumps(e,separators=(",",":"))+"\n")
