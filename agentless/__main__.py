from agentless.cli import main

main()
