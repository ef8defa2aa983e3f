"""Example: one instance of the purbalingga_pengukuran_kinerja SOP, end to end.

Kecamatan Purbalingga, 12 steps. The Sekcam (step 10) and then the Camat
(step 11) each send the recap back once to be completed before approving it.
Simulated staff work on a simulated clock; the trail is printed as it goes.
Run with: python examples/purbalingga_pengukuran_kinerja.py
(after the install that `make demo` does)
"""

from _simulation import reject_first, run

if __name__ == "__main__":
    status = run("purbalingga_pengukuran_kinerja", decide=reject_first({10, 11}))
    raise SystemExit(0 if status == "completed" else 1)
