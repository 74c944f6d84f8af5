"""Write each fixed command line's JSON to ``<name>.json`` beside this file (see command_lines.py).

python tests/golden/record.py            # every command line
python tests/golden/record.py limit_noise
"""

import json
import pathlib
import sys

from click.testing import CliRunner

from mesacheck.proofs_check.cli import main

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from command_lines import COMMAND_LINES  # noqa: E402

HERE = pathlib.Path(__file__).parent

if __name__ == "__main__":
    wanted = set(sys.argv[1:])
    for name, argv in COMMAND_LINES:
        if wanted and name not in wanted:
            continue
        result = CliRunner().invoke(main, [*argv, "--json"])
        payload = json.loads(result.output)
        record = {"argv": argv, "exit_code": result.exit_code, "json": payload}
        (HERE / f"{name}.json").write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
        print(f"{name}: exit {result.exit_code}")
