import memstrat_probe

def handle(request_id):                      # a request: a small graph with cycles
    session = {"id": request_id, "items": []}
    for i in range(50):
        session["items"].append({"n": i, "session": session})
    return len(session["items"])

for request_id in range(2000):
    with memstrat_probe.unit():              # one unit: ops = units, one latency each
        handle(request_id)
    if request_id == 199:
        memstrat_probe.warmup_done()         # the warm-up ends: policy=freeze freezes here
