from trustdesk.cli import main

raise SystemExit(main())
