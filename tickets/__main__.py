from tickets.cli import main

raise SystemExit(main())
