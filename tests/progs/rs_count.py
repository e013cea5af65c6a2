# Restart test program in Python, its own oracle (the rs_* protocol of restart_lib.bash):
#
#   python3 rs_count.py READYFILE LIMIT
#
# Writes its pid to READYFILE, then every 20 ms prints "count N". A worker thread keeps a
# running sum of squares in a dict and a list that the main thread checks against the closed
# form at each step, under a lock; the interpreter's heap, its threads and its file objects
# must all come back after a restart. PASS pid PID at LIMIT, FAIL with the reason otherwise.
import os
import sys
import threading
import time

ready, limit = sys.argv[1], int(sys.argv[2])
pid = os.getpid()
state = {"n": 0, "sum": 0}
history = []
lock = threading.Lock()
stop = threading.Event()


def worker():
    while not stop.is_set():
        with lock:
            state["n"] += 1
            state["sum"] += state["n"] * state["n"]
            history.append(state["n"])
            if len(history) > 1000:
                del history[:500]
        time.sleep(0.001)


t = threading.Thread(target=worker, daemon=True)
t.start()
tmp = ready + ".tmp"
with open(tmp, "w") as f:
    f.write("%d\n" % pid)
os.rename(tmp, ready)
for i in range(1, limit + 1):
    with lock:
        n, s = state["n"], state["sum"]
        want = n * (n + 1) * (2 * n + 1) // 6
        if s != want or (history and history[-1] != n):
            print("FAIL count %d: sum %d of %d squares, expected %d" % (i, s, n, want), flush=True)
            sys.exit(1)
    if os.getpid() != pid:
        print("FAIL pid %d, was %d" % (os.getpid(), pid), flush=True)
        sys.exit(1)
    print("count %d" % i, flush=True)
    time.sleep(0.02)
stop.set()
t.join()
print("PASS pid %d squares %d" % (pid, state["n"]), flush=True)
