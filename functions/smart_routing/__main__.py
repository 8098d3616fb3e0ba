import sys

from smart_routing.cli import main

sys.exit(main())
