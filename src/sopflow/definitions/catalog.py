"""The SOP catalog: the directory of BPMN files an office runs, keyed by process id.

A file may hold several executable processes (a collaboration's participants): each is
a process of the catalog. The processes a file marks isExecutable="false" beside them
are in the catalog too, for their pictures and documents; they are never started
(``ProcessDefinition.executable`` is False) and no call activity may call one.

A process id is how instances, the CLI and the store refer to an SOP, so two files
claiming the same id is an error naming both files rather than a silent "last one wins".
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from pathlib import Path

from sopflow.definitions.loader import load_definitions, problems_of
from sopflow.definitions.model import ProcessDefinition
from sopflow.definitions.xmlsafe import DEFAULT_MAX_BYTES
from sopflow.errors import DefinitionError, NotExecutableError, UnknownProcessError

__all__ = [
    "Catalog",
    "bpmn_files",
    "builtin_directory",
    "call_problems",
    "expand_paths",
    "validate_paths",
]


def bpmn_files(directory: str | Path) -> list[Path]:
    """The ``*.bpmn`` files directly in a directory (not recursive), in name order."""
    return sorted(p for p in Path(directory).glob("*.bpmn") if p.is_file())


def builtin_directory() -> Path:
    """Where the shipped SOPs are installed: package data ``sopflow/_data/catalog``."""
    return Path(__file__).resolve().parents[1] / "_data" / "catalog"


class Catalog:
    """Loaded, checked definitions by process id."""

    def __init__(self, definitions: Iterable[ProcessDefinition] = ()) -> None:
        self._by_id: dict[str, ProcessDefinition] = {}
        for definition in definitions:
            self.add(definition)
        problems = call_problems(self._by_id.values())
        if problems:
            raise problems[0]

    @classmethod
    def from_directory(
        cls,
        path: str | Path,
        *,
        script_handlers: Collection[str] = (),
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> Catalog:
        """Load every ``*.bpmn`` directly in ``path``; the first unusable file raises."""
        directory = Path(path)
        if not directory.is_dir():
            raise DefinitionError("catalog directory does not exist", file=directory)
        return cls(
            definition
            for file in bpmn_files(directory)
            for definition in load_definitions(
                file, script_handlers=script_handlers, max_bytes=max_bytes
            )
        )

    @classmethod
    def builtin(cls) -> Catalog:
        """The four SOPs shipped inside the package (the checkout's ``bpmn/`` is their source)."""
        return cls.from_directory(builtin_directory())

    def add(self, definition: ProcessDefinition) -> None:
        existing = self._by_id.get(definition.process_id)
        if existing is not None:
            raise DefinitionError(
                f"process id {definition.process_id!r} is also defined in {existing.source}",
                file=definition.source,
                element=definition.process_id,
            )
        self._by_id[definition.process_id] = definition

    def get(self, process_id: str) -> ProcessDefinition:
        try:
            return self._by_id[process_id]
        except KeyError:
            known = ", ".join(self.process_ids) or "none"
            raise UnknownProcessError(
                f"no process {process_id!r} in the catalog (known: {known})"
            ) from None

    @property
    def process_ids(self) -> tuple[str, ...]:
        return tuple(sorted(self._by_id))

    def __contains__(self, process_id: object) -> bool:
        return process_id in self._by_id

    def __iter__(self) -> Iterator[ProcessDefinition]:
        return iter([self._by_id[pid] for pid in self.process_ids])

    def __len__(self) -> int:
        return len(self._by_id)

    def __repr__(self) -> str:
        return f"Catalog({list(self.process_ids)!r})"


def call_problems(definitions: Iterable[ProcessDefinition]) -> list[DefinitionError]:
    """Call activities whose calledElement is no process of the catalog (BPMN 10.3.5)."""
    found = list(definitions)
    known = {d.process_id: d for d in found}
    problems: list[DefinitionError] = []
    for definition in found:
        if not definition.executable:
            continue  # never runs, so never calls
        for node in definition.nodes.values():
            if node.call is None:
                continue
            called = known.get(node.call.process)
            if called is not None and not called.executable:
                problems.append(
                    NotExecutableError(
                        f"calls process {node.call.process!r}, which {called.source} marks "
                        'isExecutable="false" (kept for its picture and document, never run)',
                        file=definition.source,
                        element=node.id,
                    )
                )
                continue
            if called is not None:
                continue
            names = ", ".join(sorted(known)) or "none"
            problems.append(
                DefinitionError(
                    f"calls process {node.call.process!r}, which no file of the catalog "
                    f"defines (catalog processes: {names})",
                    file=definition.source,
                    element=node.id,
                )
            )
    return problems


def expand_paths(paths: Iterable[str | Path]) -> tuple[list[Path], list[DefinitionError]]:
    """Files named, directories expanded to their ``*.bpmn``; problems for what is missing."""
    files: list[Path] = []
    problems: list[DefinitionError] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found = bpmn_files(path)
            if not found:
                problems.append(DefinitionError("directory holds no *.bpmn files", file=path))
            files.extend(found)
        elif path.exists():
            files.append(path)
        else:
            problems.append(DefinitionError("no such file or directory", file=path))
    return files, problems


def validate_paths(
    paths: Iterable[str | Path],
    *,
    script_handlers: Collection[str] = (),
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> list[DefinitionError]:
    """Every problem of every file (each check's findings, not just the first), for the CLI.

    Also reports a process id used by two of the files, as Catalog would refuse them.
    """
    files, problems = expand_paths(paths)
    seen: dict[str, ProcessDefinition] = {}
    for file in files:
        try:
            definitions = load_definitions(
                file, script_handlers=script_handlers, max_bytes=max_bytes
            )
        except DefinitionError as exc:
            problems.extend(problems_of(exc))
            continue
        for definition in definitions:
            other = seen.get(definition.process_id)
            if other is not None:
                problems.append(
                    DefinitionError(
                        f"process id {definition.process_id!r} is also defined in {other.source}",
                        file=file,
                        element=definition.process_id,
                    )
                )
            else:
                seen[definition.process_id] = definition
    return problems + call_problems(seen.values())
