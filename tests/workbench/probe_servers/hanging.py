"""Starts and never answers initialize: reads nothing, sleeps."""

import sys
import time

sys.stderr.write("probe-fixture: warming up forever\n")
sys.stderr.flush()
while True:
    time.sleep(60)
