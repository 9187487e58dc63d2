import sys

from sharpeyes.reports.cli import main

sys.exit(main(None))
