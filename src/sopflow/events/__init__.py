"""Messages and signals from outside: ``engine.correlate`` and ``engine.signal``."""
