"""Stop `make venv` when requirements/lock.txt no longer covers pyproject.toml.

The venv is installed from the lock alone (hash checking), so a dependency added to
pyproject.toml without `make lock` would be missing: this names it instead of letting an
import fail later. It reads the installed versions, so it needs no network.
"""

from __future__ import annotations

import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement


def main() -> int:
    project = tomllib.loads(Path("pyproject.toml").read_text())
    wanted = [
        *project["project"]["dependencies"],
        *project.get("dependency-groups", {}).get("dev", []),
    ]
    problems = []
    for line in wanted:
        requirement = Requirement(line)
        if requirement.marker and not requirement.marker.evaluate():
            continue
        try:
            installed = metadata.version(requirement.name)
        except metadata.PackageNotFoundError:
            problems.append(f"{requirement.name} is not in requirements/lock.txt")
            continue
        if not requirement.specifier.contains(installed, prereleases=True):
            problems.append(f"{requirement}: the lock has {installed}")
    for problem in problems:
        print(f"pyproject.toml: {problem}", file=sys.stderr)
    if problems:
        print("Run `make lock` to bring requirements/lock.txt up to date.", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
