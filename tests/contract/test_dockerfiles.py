"""The images' Dockerfile, checked by parsing it (no Docker engine needed).

One Dockerfile at the repository root builds every service's image, the build
argument SERVICE naming the service. It is read with a real parser
(``dockerfile-parse``) and, for each service, resolved as Docker resolves it: the
stages its image is built from (SERVICE substituted, a stage that starts FROM
another stage taking that one's steps first), held to what a cluster needs from
its image: a multi-stage build on one pinned slim Python 3.11
base, every package pinned, nothing built or cached in the final stage, a numeric
non-root user, a read-only root file system (``/tmp`` the only writable path),
the listeners and ports of the cluster contract, and a build context
(``.dockerignore``) that carries what the Dockerfile copies and nothing else: no
tests, no test helpers, no scale seeder, and nothing a shipped module imports is
left out.
"""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import io
import json
import posixpath
import re
import shlex
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from dockerfile_parse import DockerfileParser
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = "Dockerfile"
# Inside the shipped packages, yet only for tests and the scale seeder: no image may carry them.
TEST_ONLY = ("libs/runtime/simfleet_runtime/testing.py", "services/inventory/src/inventory/admin/scale.py")
CONSTRAINTS = "constraints.txt"
BASE_IMAGE = re.compile(r"^python:3\.11\.\d+-slim-(bookworm|trixie)(@sha256:[0-9a-f]{64})?$")
SHARED_PACKAGES = ("libs/protos", "libs/runtime")
# Compilers and build tools that have no place in a final stage (nor any *-dev package).
BUILD_TOOLS = {
    "build-essential",
    "gcc",
    "g++",
    "cc",
    "clang",
    "make",
    "cmake",
    "cpp",
    "binutils",
    "pkg-config",
    "git",
    "rustc",
    "cargo",
}
SYSTEM_INSTALLERS = {"apt-get": "install", "apt": "install", "apk": "add"}
ALL_ADDRESSES = "0.0.0.0"  # noqa: S104 - what a listener in a pod binds
# pip options that take the next word as their value (unless written --option=value).
PIP_OPTIONS_WITH_VALUE = {
    "-c",
    "--constraint",
    "-r",
    "--requirement",
    "--build-constraint",
    "-e",
    "--editable",
    "--python",
    "-i",
    "--index-url",
    "--extra-index-url",
    "-f",
    "--find-links",
    "--only-binary",
    "--no-binary",
    "-t",
    "--target",
    "--prefix",
    "--root",
    "--cache-dir",
    "--platform",
    "--python-version",
}


@dataclass(frozen=True)
class Image:
    """What the Dockerfile must build for one service (SERVICE=module), from the cluster contract."""

    package: str  # the service's own package directory (pip installs it with the shared ones)
    module: str  # `python -m <module>`
    settings: str  # "module:Class" read from the environment
    env_prefix: str
    listen_hosts: tuple[str, ...]  # settings fields that must be 0.0.0.0 in a pod
    ports: dict[str, int]  # listening settings fields -> the port the cluster expects
    migrates: bool  # owns a database: migrations ship inside the package, run by a hook Job
    command: tuple[str, ...] = ()  # the default CMD

    @property
    def id(self) -> str:
        return self.module


IMAGES = [
    Image(
        package="services/identity",
        module="identity",
        settings="identity.settings:IdentitySettings",
        env_prefix="IDENTITY_",
        listen_hosts=("grpc_host", "metrics_host"),
        ports={"grpc_port": 50051, "metrics_port": 9101},
        migrates=True,
        command=("serve",),
    ),
    Image(
        package="services/accounts",
        module="accounts",
        settings="accounts.settings:AccountsSettings",
        env_prefix="ACCOUNTS_",
        listen_hosts=("grpc_host", "metrics_host"),
        ports={"grpc_port": 50071, "metrics_port": 9107},
        migrates=True,
        command=("serve",),
    ),
    Image(
        package="services/inventory",
        module="inventory",
        settings="inventory.settings:InventorySettings",
        env_prefix="INVENTORY_",
        listen_hosts=("grpc_host", "metrics_host"),
        ports={"grpc_port": 50081, "metrics_port": 9108},
        migrates=True,
        command=("serve",),
    ),
    Image(
        package="services/netsim",
        module="netsim",
        settings="netsim.settings:NetsimSettings",
        env_prefix="NETSIM_",
        listen_hosts=("grpc_host", "metrics_host", "smtp_host", "http_host"),
        ports={"grpc_port": 50061, "metrics_port": 9106, "smtp_port": 2525, "http_port": 8090},
        migrates=True,
        command=("serve",),
    ),
    Image(
        package="services/billing",
        module="billing",
        settings="billing.settings:BillingSettings",
        env_prefix="BILLING_",
        listen_hosts=("grpc_host", "metrics_host"),
        ports={"grpc_port": 50091, "metrics_port": 9109},
        migrates=True,
        command=("serve",),
    ),
    Image(
        package="services/ticketing",
        module="ticketing",
        settings="ticketing.settings:TicketingSettings",
        env_prefix="TICKETING_",
        listen_hosts=("grpc_host", "metrics_host"),
        ports={"grpc_port": 50101, "metrics_port": 9111},
        migrates=True,
        command=("serve",),
    ),
    Image(
        package="services/notifications",
        module="notifications",
        settings="notifications.settings:NotificationsSettings",
        env_prefix="NOTIFICATIONS_",
        listen_hosts=("grpc_host", "metrics_host"),
        ports={"grpc_port": 50111, "metrics_port": 9112},
        migrates=True,
        command=("serve",),
    ),
    Image(
        package="gateway",
        module="gateway",
        settings="gateway.settings:GatewaySettings",
        env_prefix="GATEWAY_",
        listen_hosts=("http_host",),
        ports={"http_port": 8080},
        migrates=False,
    ),
]

each_image = pytest.mark.parametrize("image", IMAGES, ids=[image.id for image in IMAGES])


# --- The Dockerfile, parsed -------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    name: str
    value: str
    line: int

    def json_form(self) -> list[str] | None:
        """The exec (JSON array) form of ENTRYPOINT/CMD/VOLUME, or None for the shell form."""
        try:
            parsed = json.loads(self.value)
        except json.JSONDecodeError:
            return None
        return parsed if isinstance(parsed, list) and all(isinstance(x, str) for x in parsed) else None


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def of(self, name: str) -> list[Instruction]:
        return [i for i in self.instructions if i.name == name]


@dataclass(frozen=True)
class Written:
    """The Dockerfile as written: its global ARGs (before the first FROM) and its stages."""

    parser: DockerfileParser
    global_args: list[Instruction]
    stages: list[Stage]
    sources: dict[int, str]  # an instruction's first line -> its text as written

    def stage(self, name: str) -> Stage | None:
        return next((stage for stage in self.stages if stage.name == name), None)


@dataclass(frozen=True)
class Dockerfile:
    """What the build of one service runs: the builder and the final stage, each resolved to one stage
    on the base image, and ``parser``, the final stage alone (its ENV and LABEL values)."""

    parser: DockerfileParser
    stages: list[Stage]

    @property
    def final(self) -> Stage:
        return self.stages[-1]


@cache
def written() -> Written:
    parser = DockerfileParser(fileobj=io.BytesIO((ROOT / DOCKERFILE).read_bytes()))
    stages: list[Stage] = []
    global_args: list[Instruction] = []
    sources: dict[int, str] = {}
    for item in parser.structure:
        instruction = Instruction(item["instruction"].upper(), item["value"], item["startline"] + 1)
        sources[instruction.line] = item["content"]
        if instruction.name == "FROM":
            words = [w for w in instruction.value.split() if not w.startswith("--")]
            name = words[2] if len(words) == 3 and words[1].lower() == "as" else None
            assert len(words) in (1, 3), f"{DOCKERFILE}:{instruction.line}: FROM {instruction.value!r}"
            stages.append(Stage(base=words[0], name=name))
        elif instruction.name == "ARG" and not stages:
            global_args.append(instruction)
        elif instruction.name != "COMMENT":
            assert stages, f"{DOCKERFILE}:{instruction.line}: {instruction.name} before any FROM"
            stages[-1].instructions.append(instruction)
    return Written(parser, global_args, stages, sources)


def with_service(text: str, service: str) -> str:
    return text.replace("${SERVICE}", service).replace("$SERVICE", service)


def chain(stage: Stage, service: str) -> list[Stage]:
    """The stages a stage is built on, itself last: FROM another stage takes that stage's steps first."""
    parent = written().stage(with_service(stage.base, service))
    if parent is None:
        return [stage]
    assert parent is not stage, f"stage {stage.name} starts FROM itself"
    return [*chain(parent, service), stage]


def resolved(stage: Stage, service: str) -> Stage:
    """One stage on the base image with every step the build of ``service`` runs for ``stage``."""
    stages = chain(stage, service)
    base = with_service(stages[0].base, service)
    return Stage(base=base, name=stage.name, instructions=[i for s in stages for i in s.instructions])


@cache
def dockerfile(service: str) -> Dockerfile:
    """The Dockerfile as ``docker build --build-arg SERVICE=<service>`` runs it."""
    file = written()
    builder = file.stage("builder")
    assert builder is not None, "the stage that builds the virtual environment is named builder"
    final = resolved(file.stages[-1], service)
    text = "".join(file.sources[i.line] for i in file.global_args) + f"FROM {final.base}\n"
    text += "".join(file.sources[i.line] for i in final.instructions)
    parser = DockerfileParser(fileobj=io.BytesIO(text.encode()), build_args={"SERVICE": service})
    return Dockerfile(parser, [resolved(builder, service), final])


def shell_commands(run: str) -> Iterator[list[str]]:
    """The simple commands of a RUN line: its words split at &&, ||, ;, |."""
    lexer = shlex.shlex(run, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    command: list[str] = []
    for token in lexer:
        if token in {"&&", "||", ";", "|", "&"}:
            if command:
                yield command
            command = []
        else:
            command.append(token)
    if command:
        yield command


@dataclass(frozen=True)
class PipCall:
    subcommand: str
    options: dict[str, list[str]]  # canonical option -> values ("" for flags)
    positional: list[str]


def pip_call(command: list[str]) -> PipCall | None:
    """A pip invocation (``pip ...``, ``python -m pip ...``), split into its parts."""
    words = list(command)
    if len(words) >= 3 and posixpath.basename(words[0]).startswith("python") and words[1:3] == ["-m", "pip"]:
        words = words[3:]
    elif words and posixpath.basename(words[0]) in {"pip", "pip3"}:
        words = words[1:]
    else:
        return None
    aliases = {"-c": "--constraint", "-r": "--requirement", "-e": "--editable"}
    options: dict[str, list[str]] = {}
    positional: list[str] = []
    subcommand = ""
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        if word.startswith("-"):
            name, has_value, value = word.partition("=")
            if not has_value and name in PIP_OPTIONS_WITH_VALUE and index < len(words):
                value = words[index]
                index += 1
            options.setdefault(aliases.get(name, name), []).append(value)
        elif not subcommand:
            subcommand = word
        else:
            positional.append(word)
    return PipCall(subcommand, options, positional)


def pip_calls(stage: Stage) -> Iterator[tuple[Instruction, PipCall]]:
    for run in stage.of("RUN"):
        for command in shell_commands(run.value):
            call = pip_call(command)
            if call is not None:
                yield run, call


def copy_parts(instruction: Instruction) -> tuple[dict[str, str], list[str], str]:
    """(--flags, sources, destination) of a COPY/ADD in shell form."""
    words = shlex.split(instruction.value)
    flags = {}
    while words and words[0].startswith("--"):
        name, _, value = words.pop(0)[2:].partition("=")
        flags[name] = value
    assert len(words) >= 2, f"line {instruction.line}: {instruction.name} {instruction.value!r}"
    return flags, words[:-1], words[-1]


def context_copies(stage: Stage) -> Iterator[tuple[Instruction, str, str]]:
    """(COPY, repository path, absolute path in the stage) for every copy from the build context."""
    workdir = "/"
    for instruction in stage.instructions:
        if instruction.name == "WORKDIR":
            workdir = posixpath.join(workdir, instruction.value)
        elif instruction.name in {"COPY", "ADD"}:
            flags, sources, dest = copy_parts(instruction)
            if "from" in flags:
                continue
            target = posixpath.normpath(posixpath.join(workdir, dest))
            into_directory = dest.endswith("/") or len(sources) > 1
            for source in sources:
                source = posixpath.normpath(source)
                if (ROOT / source).is_dir() or not into_directory:
                    yield instruction, source, target
                else:
                    yield instruction, source, posixpath.join(target, posixpath.basename(source))


def repository_path(stage: Stage, before: Instruction, path: str) -> str | None:
    """The repository file or folder that a path in the stage was copied from (before ``before``)."""
    workdir = "/"
    for instruction in stage.instructions:
        if instruction is before:
            break
        if instruction.name == "WORKDIR":
            workdir = posixpath.join(workdir, instruction.value)
    wanted = posixpath.normpath(posixpath.join(workdir, path))
    found = None
    for instruction, source, target in context_copies(stage):
        if instruction.line > before.line:
            break
        if wanted == target:
            found = source
        elif wanted.startswith(target + "/") and (ROOT / source).is_dir():
            found = posixpath.join(source, wanted[len(target) + 1 :])
    return found


# --- The build context (.dockerignore, with Docker's own matching rules) ----------


@dataclass(frozen=True)
class IgnorePattern:
    regex: re.Pattern[str]
    exclusion: bool  # a "!" line: lets back in what an earlier line left out


def ignore_regex(pattern: str) -> re.Pattern[str]:
    """Docker's pattern syntax (moby/patternmatcher): *, ?, ** across folders, [classes]."""
    out = ""
    index = 0
    while index < len(pattern):
        char = pattern[index]
        index += 1
        if char == "*":
            if pattern[index : index + 1] == "*":
                index += 1
                if pattern[index : index + 1] == "/":
                    index += 1
                out += ".*" if index >= len(pattern) else "(.*/)?"
            else:
                out += "[^/]*"
        elif char == "?":
            out += "[^/]"
        elif char == "\\" and index < len(pattern):
            out += re.escape(pattern[index])
            index += 1
        elif char == "[":
            end = pattern.index("]", index)
            out += "[" + pattern[index:end].replace("\\", "\\\\") + "]"
            index = end + 1
        else:
            out += re.escape(char)
    return re.compile(f"^{out}$")


def read_dockerignore(text: str) -> list[IgnorePattern]:
    patterns = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        exclusion = line.startswith("!")
        if exclusion:
            line = line[1:].strip()
        line = posixpath.normpath(line).lstrip("/") or "."
        patterns.append(IgnorePattern(ignore_regex(line), exclusion))
    return patterns


def ignored(patterns: list[IgnorePattern], path: str) -> bool:
    """Whether Docker leaves ``path`` (relative to the context) out: the last matching line wins,
    and a line matches a path when it matches the path or one of its parent folders."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    result = False
    for pattern in patterns:
        if any(pattern.regex.match(candidate) for candidate in candidates):
            result = not pattern.exclusion
    return result


@cache
def dockerignore() -> list[IgnorePattern]:
    path = ROOT / ".dockerignore"
    assert path.is_file(), "the build context (the repository root) needs a .dockerignore"
    return read_dockerignore(path.read_text())


# --- Pins -----------------------------------------------------------------------------


def pins(path: Path) -> dict[str, str]:
    """name -> version of a requirements/constraints file in which every line is ``name==version``."""
    result = {}
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        requirement = Requirement(line)
        specifiers = list(requirement.specifier)
        assert len(specifiers) == 1, f"{path.name}: {line!r} is not pinned to one version"
        assert specifiers[0].operator == "==", f"{path.name}: {line!r} is not pinned with =="
        assert "*" not in specifiers[0].version, f"{path.name}: {line!r} is not pinned to one version"
        result[canonicalize_name(requirement.name)] = specifiers[0].version
    return result


def pyproject(package: str) -> dict[str, Any]:
    return tomllib.loads((ROOT / package / "pyproject.toml").read_text())


def third_party_closure(packages: list[str]) -> dict[str, str]:
    """Every distribution pip installs for these local packages: canonical name -> who needs it.

    The local packages' own requirements come from their pyproject.toml; those of the
    third-party ones from their installed metadata (markers evaluated for this interpreter,
    the image's Python 3.11 on Linux, extras followed)."""
    local = {canonicalize_name(pyproject(p)["project"]["name"]) for p in packages}
    queue: list[tuple[Requirement, str]] = [
        (Requirement(line), p) for p in packages for line in pyproject(p)["project"].get("dependencies", [])
    ]
    needed: dict[str, str] = {}
    extras_seen: dict[str, set[str]] = {}
    while queue:
        requirement, needed_by = queue.pop()
        name = canonicalize_name(requirement.name)
        if name in local or (requirement.marker and not requirement.marker.evaluate({"extra": ""})):
            continue
        extras = set(requirement.extras)
        if name in needed and extras <= extras_seen[name]:
            continue
        needed.setdefault(name, needed_by)
        extras_seen.setdefault(name, set()).update(extras)
        try:
            requires = importlib.metadata.distribution(name).requires or []
        except importlib.metadata.PackageNotFoundError:
            pytest.fail(f"{name} (needed by {needed_by}) is not installed here; install with -c {CONSTRAINTS}")
        for line in requires:
            child = Requirement(line)
            if child.marker is None or any(
                child.marker.evaluate({"extra": extra}) for extra in ({""} | extras_seen[name])
            ):
                child.marker = None
                queue.append((child, name))
    return needed


# --- The checks, for each image -----------------------------------------------------


def test_one_dockerfile_builds_every_service_named_by_a_build_argument() -> None:
    file = written()
    assert [arg.value for arg in file.global_args] == ["SERVICE"], "ARG SERVICE (no default) before the first FROM"
    assert file.stages[-1].base == "${SERVICE}" and file.stages[-1].name is None, "the last stage is FROM ${SERVICE}"
    names = [stage.name for stage in file.stages if stage.name]
    assert len(names) == len(set(names)), f"stage names repeat: {names}"
    services = {image.module for image in IMAGES}
    final_stages = {stage.name for stage in file.stages if stage.base == "runtime"}
    assert final_stages == services, "one final stage per service, named after it, FROM runtime"
    sources = {stage.name for stage in file.stages if stage.name and stage.name.endswith("-source")}
    assert sources == {f"{service}-source" for service in services}, "one source stage per service"
    leftovers = sorted(p.relative_to(ROOT).as_posix() for p in ROOT.glob("*/**/Dockerfile") if ".venv" not in p.parts)
    # The web console's image is Node.js and nginx, not a Python service: its own file (tests/charts/test_console.py).
    assert leftovers == ["web/Dockerfile"], f"Dockerfiles besides the one at the root: {leftovers}"


def test_every_stage_starts_from_the_base_or_another_stage() -> None:
    file = written()
    names = {stage.name for stage in file.stages}
    for stage in file.stages:
        if "$" in stage.base:
            continue  # resolved per service by the checks below
        assert stage.base in names or BASE_IMAGE.match(stage.base), f"FROM {stage.base}: not a pinned slim Python 3.11"


@each_image
def test_builds_in_stages_from_one_pinned_slim_python_311_base(image: Image) -> None:
    parsed = dockerfile(image.module)
    builder, final = parsed.stages
    assert builder.name == "builder", "the stage that makes the venv is named builder"
    assert [stage.name for stage in chain(written().stages[-1], image.module)][-2:] == [image.module, None]
    for stage in parsed.stages:
        assert BASE_IMAGE.match(stage.base), f"{stage.base}: not a slim Python 3.11 base pinned to a patch release"
    assert final.base == builder.base, "the venv the builder makes only runs on the same base"
    assert "builder" not in {s.name for s in chain(written().stages[-1], image.module)}, "the builder is not shipped"
    assert written().parser.is_multistage


def test_every_image_has_the_same_base() -> None:
    bases = {image.module: dockerfile(image.module).final.base for image in IMAGES}
    assert len(set(bases.values())) == 1, bases


@each_image
def test_runs_as_a_numeric_non_root_user_after_every_root_step(image: Image) -> None:
    final = dockerfile(image.module).final
    users = final.of("USER")
    assert users, "the final stage sets USER"
    user = users[-1]
    match = re.fullmatch(r"(\d+)(?::(\d+))?", user.value.strip())
    assert match, f"USER {user.value!r}: numeric uid[:gid], so runAsNonRoot can verify it"
    uid, gid = match.group(1), match.group(2)
    assert int(uid) != 0, "USER is root"
    assert gid is None or int(gid) != 0, "the group is root"
    late = [i for i in final.instructions if i.name in {"RUN", "COPY", "ADD"} and i.line > user.line]
    assert not late, f"steps after USER {user.value}: {[(i.name, i.line) for i in late]}"
    for run in final.of("RUN"):
        for command in shell_commands(run.value):
            if command[0] == "useradd" and "--uid" in command:
                assert command[command.index("--uid") + 1] == uid, "the user created is not the one run as"


@each_image
def test_final_stage_has_no_build_tools_or_installs(image: Image) -> None:
    parsed = dockerfile(image.module)
    final = parsed.final
    for run in final.of("RUN"):
        for command in shell_commands(run.value):
            tool = posixpath.basename(command[0])
            verb = SYSTEM_INSTALLERS.get(tool)
            if verb and verb in command:
                packages = [w.split("=")[0] for w in command[command.index(verb) + 1 :] if not w.startswith("-")]
                bad = [p for p in packages if p in BUILD_TOOLS or p.endswith("-dev")]
                assert not bad, f"line {run.line}: build tools in the final stage: {bad}"
            assert tool not in BUILD_TOOLS, f"line {run.line}: {tool} runs in the final stage"
    installs = [run.line for run, call in pip_calls(final) if call.subcommand in {"install", "download", "wheel"}]
    assert not installs, f"pip installs in the final stage (lines {installs}): build in the builder, copy the venv"
    builder_names = {stage.name for stage in parsed.stages[:-1]}
    for copy in final.of("COPY"):
        flags, sources, _dest = copy_parts(copy)
        if "from" in flags:
            assert flags["from"] in builder_names, f"line {copy.line}: COPY --from={flags['from']}"
            leaked = [s for s in sources if s.startswith(("/root", "/build", "/tmp")) or ".cache" in s]
            assert not leaked, f"line {copy.line}: copies build leftovers {leaked}"


@each_image
def test_pip_installs_are_pinned_not_editable_and_keep_no_cache(image: Image) -> None:
    parsed = dockerfile(image.module)
    builder = parsed.stages[0]
    installed: set[str] = set()
    constrained_by: set[str] = set()
    for run, call in pip_calls(builder):
        if call.subcommand != "install":
            continue
        where = f"line {run.line}"
        assert "--no-cache-dir" in call.options, f"{where}: pip install without --no-cache-dir"
        assert "--editable" not in call.options, f"{where}: editable installs point into the build folder"
        for option in ("--constraint", "--requirement", "--build-constraint"):
            for value in call.options.get(option, []):
                source = repository_path(builder, run, value)
                assert source, f"{where}: {option} {value} was not copied from the repository"
                pins(ROOT / source)  # every line name==version
                if option == "--constraint":
                    constrained_by.add(source)
        if call.positional:
            assert call.options.get("--constraint"), f"{where}: installs {call.positional} without -c"
            for argument in call.positional:
                source = repository_path(builder, run, argument)
                assert source, f"{where}: {argument} is not a project copied from the repository (unpinned)"
                assert (ROOT / source / "pyproject.toml").is_file(), f"{where}: {source} is not a Python project"
                installed.add(source)
        else:
            assert call.options.get("--requirement"), f"{where}: pip install of nothing"
    assert installed == {*SHARED_PACKAGES, image.package}, "the packages the image installs"
    assert constrained_by == {CONSTRAINTS}, f"the projects are installed with -c {CONSTRAINTS}"


@each_image
def test_every_package_the_image_installs_is_pinned(image: Image) -> None:
    pinned = pins(ROOT / CONSTRAINTS)
    needed = third_party_closure([*SHARED_PACKAGES, image.package])
    unpinned = {name: by for name, by in needed.items() if name not in pinned}
    assert not unpinned, f"not pinned in {CONSTRAINTS} (name: needed by): {unpinned}"
    stale = {
        name: (pinned[name], importlib.metadata.version(name))
        for name in needed
        if Version(importlib.metadata.version(name)) != Version(pinned[name])
    }
    assert not stale, f"installed here at another version than {CONSTRAINTS} pins (pin, installed): {stale}"


@each_image
def test_build_tools_are_pinned_and_fit_the_projects(image: Image) -> None:
    parsed = dockerfile(image.module)
    builder = parsed.stages[0]
    calls = [(run, call) for run, call in pip_calls(builder) if call.subcommand == "install"]
    uses = {
        (run.line, repository_path(builder, run, value))
        for run, call in calls
        for value in call.options.get("--build-constraint", [])
    }
    assert len({source for _, source in uses}) == 1, "one --build-constraint file pins the build backend"
    first_use, source = min(uses)
    assert source
    tools = pins(ROOT / source)
    assert Version(tools["pip"]) >= Version("25.3"), "--build-constraint needs pip 25.3 or later"
    installs_tools = [
        run.line
        for run, call in calls
        for value in call.options.get("--requirement", [])
        if repository_path(builder, run, value) == source
    ]
    assert installs_tools, f"the builder installs the pinned pip from {source}"
    assert min(installs_tools) < first_use, f"the builder installs the pinned pip from {source} before using it"
    for package in [*SHARED_PACKAGES, image.package]:
        for line in pyproject(package)["build-system"]["requires"]:
            requirement = Requirement(line)
            name = canonicalize_name(requirement.name)
            assert name in tools, f"{package} builds with {name}, which {source} does not pin"
            assert requirement.specifier.contains(tools[name]), f"{package} needs {line}; {source} pins {tools[name]}"


@each_image
def test_read_only_root_file_system_works(image: Image) -> None:
    parsed = dockerfile(image.module)
    final = parsed.final
    volumes: set[str] = set()
    for volume in final.of("VOLUME"):
        instruction_paths = volume.json_form() or volume.value.split()
        volumes.update(posixpath.normpath(p) for p in instruction_paths)
    assert "/tmp" in volumes, "VOLUME /tmp: the one writable path (an emptyDir in a pod)"
    env = parsed.parser.envs
    assert env.get("PYTHONDONTWRITEBYTECODE") == "1", "Python would try to write bytecode"
    assert env.get("PYTHONUNBUFFERED") == "1", "logs must reach stdout as they are written"
    home = posixpath.normpath(env.get("HOME", "/"))
    assert any(home == v or home.startswith(v + "/") for v in volumes), f"HOME={home} is not writable"


@each_image
def test_defaults_fit_a_pod_and_the_cluster_ports(image: Image) -> None:
    parsed = dockerfile(image.module)
    module_name, _, class_name = image.settings.partition(":")
    settings_class = getattr(importlib.import_module(module_name), class_name)
    values = {}
    for key, value in parsed.parser.envs.items():
        if key.startswith(image.env_prefix):
            name = key[len(image.env_prefix) :].lower()
            assert name in settings_class.model_fields, f"ENV {key}: {class_name} has no such setting"
            values[name] = value
    settings = settings_class(**values)
    for host in image.listen_hosts:
        assert getattr(settings, host) == ALL_ADDRESSES, f"{image.env_prefix}{host.upper()} must be 0.0.0.0 in a pod"
    assert {name: getattr(settings, name) for name in image.ports} == image.ports
    exposed = {int(port.split("/")[0]) for expose in parsed.final.of("EXPOSE") for port in expose.value.split()}
    assert exposed == set(image.ports.values()), "EXPOSE the ports the service listens on"
    assert settings.log_json is True, "JSON logs in a cluster"
    if image.migrates:
        assert settings.migrate_on_start is False, "a Helm hook Job migrates, not every replica at start"


@each_image
def test_entrypoint_runs_the_service_module_from_the_builders_venv(image: Image) -> None:
    parsed = dockerfile(image.module)
    final = parsed.final
    entrypoints = final.of("ENTRYPOINT")
    assert entrypoints, "ENTRYPOINT"
    entrypoint = entrypoints[-1].json_form()
    assert entrypoint, "ENTRYPOINT in exec form: the service is PID 1 and gets SIGTERM itself"
    python, *arguments = entrypoint
    assert arguments == ["-m", image.module], f"ENTRYPOINT runs {arguments}, not -m {image.module}"
    assert (ROOT / image.package / "src" / image.module / "__main__.py").is_file()
    venvs = [copy_parts(c)[2] for c in final.of("COPY") if "from" in copy_parts(c)[0]]
    assert any(python.startswith(posixpath.join(v, "bin/python")) for v in venvs), f"{python} is not the venv's"
    creates = [run for run in parsed.stages[0].of("RUN") if "venv" in run.value and venvs[0] in run.value]
    assert creates, f"the builder does not create {venvs[0]}"
    commands = final.of("CMD")
    command = commands[-1].json_form() if commands else []
    assert tuple(command or ()) == image.command, f"CMD {command}"


@each_image
def test_the_builder_proves_the_migrations_ship(image: Image) -> None:
    """The builder checks the installed package for migrations when the service's source has them."""
    migrations = ROOT / image.package / "src" / image.module / "migrations"
    assert migrations.is_dir() == image.migrates, f"{migrations}: migrates={image.migrates}"
    if image.migrates:
        assert any((migrations / "versions").glob("*.py")), f"{migrations}/versions holds no migration"
    runs = " ".join(run.value for run in dockerfile(image.module).stages[0].of("RUN"))
    assert '[ -d "service/src/${SERVICE}/migrations" ]' in runs, "the builder does not look for migrations"
    assert "'migrations' / 'versions'" in runs, "the builder does not check the installed migrations"


@each_image
def test_oci_labels(image: Image) -> None:
    labels = dockerfile(image.module).parser.labels
    prefix = "org.opencontainers.image."
    for key in ("title", "description", "version", "revision", "vendor"):
        assert labels.get(prefix + key), f"LABEL {prefix}{key}"
    assert labels[prefix + "title"] == f"simfleet-{image.module}"
    assert labels[prefix + "version"] == pyproject(image.package)["project"]["version"]


@each_image
def test_build_context_carries_what_is_copied_and_no_tests(image: Image) -> None:
    patterns = dockerignore()
    for stage in dockerfile(image.module).stages:
        assert not stage.of("ADD"), "COPY, not ADD"
        for copy, source, _target in context_copies(stage):
            where = f"line {copy.line}"
            assert (ROOT / source).exists(), f"{where}: {source} does not exist in the repository"
            assert not ignored(patterns, source), f"{where}: .dockerignore leaves {source} out of the context"
            if not (ROOT / source).is_dir():
                continue
            assert not ignored(patterns, f"{source}/pyproject.toml"), f"{where}: {source}/pyproject.toml left out"
            for path in (ROOT / source).rglob("*"):
                relative = path.relative_to(ROOT).as_posix()
                parts = path.relative_to(ROOT / source).parts
                leftover = parts[0] in {"build", "dist"} or any(
                    part in {"tests", "__pycache__"} or part.endswith(".egg-info") for part in parts
                )
                if relative in TEST_ONLY:
                    assert ignored(patterns, relative), f"{relative} (only for tests) is sent with the context"
                elif path.is_file() and not leftover and path.suffix in {".py", ".pyi", ".mako", ".typed", ".toml"}:
                    assert not ignored(patterns, relative), f"{relative} is left out of the context"
                if leftover:
                    assert ignored(patterns, relative), f"{relative} is sent with the context"


@pytest.mark.parametrize(
    "path",
    [
        ".git/HEAD",
        ".venv/bin/python",
        ".data/identity.db",
        ".mypy_cache/3.11/x.json",
        ".pytest_cache/v/x",
        ".ruff_cache/x",
        "docs/architecture.md",
        "tests/contract/test_dockerfiles.py",
        "services/identity/tests/conftest.py",
        "services/billing/tests/conftest.py",
        "libs/runtime/tests/test_db.py",
        "libs/runtime/simfleet_runtime/__pycache__/db.cpython-311.pyc",
        "services/netsim/src/simfleet_netsim.egg-info/PKG-INFO",
        "libs/protos/build/lib/simfleet/__init__.py",
        "gateway/dist/simfleet_gateway-0.1.0-py3-none-any.whl",
        "Dockerfile",
        "libs/devstack/pyproject.toml",
        ".env",
        *TEST_ONLY,
    ],
)
def test_build_context_leaves_out(path: str) -> None:
    assert ignored(dockerignore(), path)


@pytest.mark.parametrize(
    ("lines", "path", "expected"),
    [
        (["*"], "a/b.py", True),
        (["*", "!a"], "a/b.py", False),
        (["*", "!a", "**/tests"], "a/x/tests/t.py", True),
        (["**/tests"], "a/testsuite/t.py", False),
        (["**/*.py[cod]"], "a/b/c.pyc", True),
        (["docs"], "a/docs/x.md", False),
        (["/docs/"], "docs/x.md", True),
        (["a/*.txt"], "a/b/c.txt", False),
        (["**"], "a/b", True),
    ],
)
def test_dockerignore_matching_follows_docker(lines: list[str], path: str, expected: bool) -> None:
    assert ignored(read_dockerignore("\n".join(lines)), path) is expected


# --- What the images ship of our own code -----------------------------------------------


def shipped_files(image: Image) -> dict[str, str]:
    """The repository's files the image's wheels are built from: module name -> repository path.

    Each project pip installs in the builder, as the build context has it (after
    .dockerignore); only .py files inside its Python packages (a src/ layout or
    not) become modules of the installed wheel."""
    builder = dockerfile(image.module).stages[0]
    projects = {
        repository_path(builder, run, argument)
        for run, call in pip_calls(builder)
        if call.subcommand == "install"
        for argument in call.positional
    }
    assert None not in projects
    patterns = dockerignore()
    modules: dict[str, str] = {}
    for project in sorted(p for p in projects if p):
        package_root = ROOT / project / "src" if (ROOT / project / "src").is_dir() else ROOT / project
        for path in package_root.rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            parts = path.relative_to(package_root).with_suffix("").parts
            if ignored(patterns, relative) or not (package_root / parts[0]).is_dir():
                continue
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = relative
    return modules


def all_modules() -> dict[str, str]:
    """Every module of the shipped projects, shipped or not: module name -> repository path."""
    modules: dict[str, str] = {}
    for project in ["libs/protos", "libs/runtime", *(image.package for image in IMAGES)]:
        package_root = ROOT / project / "src" if (ROOT / project / "src").is_dir() else ROOT / project
        for path in package_root.rglob("*.py"):
            parts = path.relative_to(package_root).with_suffix("").parts
            if not (package_root / parts[0]).is_dir() or "tests" in parts:
                continue
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path.relative_to(ROOT).as_posix()
    return modules


def imported_modules(path: Path, module: str) -> Iterator[tuple[int, str]]:
    """(line, module) for every import in a file, relative ones made absolute; ``from x import y``
    gives both x and x.y (y may be a module)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parent = parts[: len(parts) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            yield node.lineno, base
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}"


@each_image
def test_the_image_ships_no_test_helpers_nor_the_scale_seeder(image: Image) -> None:
    shipped = set(shipped_files(image).values())
    package = image.package.rstrip("/")
    main = f"{package}/src/{image.module}/main.py"
    assert main in shipped, f"the file list is broken: {main} is not in it"
    assert "libs/runtime/simfleet_runtime/db.py" in shipped, "the file list is broken: the runtime is not in it"
    assert not shipped & set(TEST_ONLY), f"the image ships {sorted(shipped & set(TEST_ONLY))}"


@each_image
def test_no_shipped_module_imports_what_the_image_leaves_out(image: Image) -> None:
    shipped = shipped_files(image)
    ours = all_modules()
    left_out = {name: path for name, path in ours.items() if name not in shipped}
    assert {ours[name] for name in left_out} >= set(TEST_ONLY) & set(ours.values())
    broken = [
        f"{path}:{line} imports {name}"
        for module, path in shipped.items()
        for line, name in imported_modules(ROOT / path, module)
        if name in left_out
    ]
    assert not broken, f"modules in the image import what it leaves out: {broken}"
