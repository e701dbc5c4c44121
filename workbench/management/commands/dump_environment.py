
from workbench.kit.commands import RefusalCommand
from workbench.services.environments import environment_dump


class Command(RefusalCommand):
    help = "Write the published state and policy as a fixture (natural keys) that load_environment can apply."

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", help="File to write (default: standard output).")

    def handle(self, *args, output=None, **options):
        if output:
            with open(output, "w", encoding="utf-8") as stream:
                count = environment_dump(stream=stream)
            self.stderr.write(f"Wrote {count} objects to {output}.")
        else:
            # The raw stream: OutputWrapper would add a newline after every chunk json.dump writes.
            environment_dump(stream=self.stdout._out)
