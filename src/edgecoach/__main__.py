from edgecoach.cli import run

run()

