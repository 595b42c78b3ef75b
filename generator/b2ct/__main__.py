from b2ct.cli import main

raise SystemExit(main())
