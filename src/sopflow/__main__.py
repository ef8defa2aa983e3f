import sys

from sopflow.cli import main

sys.exit(main())
