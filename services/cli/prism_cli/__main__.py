from prism_cli.main import main

raise SystemExit(main())
