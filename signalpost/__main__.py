from signalpost.cli import main

raise SystemExit(main())
