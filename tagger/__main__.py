from tagger.cli.main import main

raise SystemExit(main())
