from bizosaas.cli import main

main()
