from genomenode.cli.main import run

run()
