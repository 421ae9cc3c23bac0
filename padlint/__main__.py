import sys

from padlint.cli.main import main

sys.exit(main())
