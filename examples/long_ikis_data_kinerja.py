"""Example: one instance of the long_ikis_data_kinerja SOP, end to end.

Kecamatan Long Ikis (Kab. Paser, WITA), 14 steps. The Sekcam (step 11) returns
the recap to PPTK/Kasi once to be completed, then approves it.
Simulated staff work on a simulated clock; the trail is printed as it goes.
Run with: python examples/long_ikis_data_kinerja.py
(after the install that `make demo` does)
"""

from _simulation import reject_first, run

if __name__ == "__main__":
    status = run("long_ikis_data_kinerja", decide=reject_first({11}))
    raise SystemExit(0 if status == "completed" else 1)
