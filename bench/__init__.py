"""okrbridge benchmarks: `python3 -m bench` prints the scale figures; they are never asserted."""
