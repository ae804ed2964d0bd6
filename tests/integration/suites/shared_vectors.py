"""The conditional truth table (tests/vectors/conditional_requests.tsv) replayed against two
replicas of shared mode: each row's state is built through one replica and its request sent
through the other, alternating row by row (conditional_vectors.py's run with two ports). Every
row must answer as it does from one process: status, Code, Condition, and the ETag and
Last-Modified headers of the rows that check them.
"""

import os
import sys
import time

import lib
import sharedmode

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import conditional_vectors  # noqa: E402

r = lib.Reporter("shared_vectors")
started = time.monotonic()
env = sharedmode.setup(r)
a, b = env.clients
conditional_vectors.run(r, ports=[a.port, b.port])
env.finish(started)
