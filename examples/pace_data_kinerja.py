"""Example: one instance of the pace_data_kinerja SOP, end to end.

Kecamatan Pace (Kab. Nganjuk), 9 steps without decisions.
Simulated staff work on a simulated clock; the trail is printed as it goes.
Run with: python examples/pace_data_kinerja.py
(after the install that `make demo` does)
"""

from _simulation import run

if __name__ == "__main__":
    status = run("pace_data_kinerja")
    raise SystemExit(0 if status == "completed" else 1)
