from osmep_xl.cli import main

main()
