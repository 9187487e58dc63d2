from sharpeyes.tickets.cli import main

raise SystemExit(main(None))
