from dokiem.cli import main

main()
