"""`adamerging merge config.yaml`: upload what the service does not store yet (by SHA-256), submit, follow the merge
with a progress bar, download the merged model and its report. Also `wait ID` and `download ID DIR`.

Exit status: 0 done, 1 the merge failed or was cancelled, 2 a bad configuration or command line, 3 the service
refused a request (its problem code is printed), 130 interrupted (the merge goes on; `adamerging wait ID`).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from . import __version__
from .client import Client
from .config import ConfigError, Input, MergeConfig, load
from .problems import ApiProblem, MergeFailed
from .progress import Bar


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    bar = Bar(enabled=not args.quiet)
    try:
        with Client(args.url, args.key) as client:
            return args.run(client, args, bar)
    except ConfigError as e:
        print(f"adamerging: {e}", file=sys.stderr)
        return 2
    except ApiProblem as e:
        bar.finish()
        print(f"adamerging: the service refused: {e}", file=sys.stderr)
        return 3
    except MergeFailed as e:
        bar.finish()
        print(f"adamerging: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        bar.finish()
        print("adamerging: interrupted; a submitted merge goes on (adamerging wait ID follows it)", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="adamerging", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=f"adamerging {__version__}")
    parser.add_argument("--url", help="the service (default: $ADAMERGING_URL, else http://127.0.0.1:5080, where scripts/demo.sh serves)")
    parser.add_argument("--key", help="an API key (default: $ADAMERGING_API_KEY)")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    parser.add_argument("--json", action="store_true", help="print a JSON summary on stdout at the end")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    merge = commands.add_parser("merge", help="upload, merge, follow and download as a YAML file says")
    merge.add_argument("config", type=Path)
    merge.add_argument("--output", type=Path, help="where the merged model goes (default: the config's output, else ./merged-ID)")
    merge.add_argument("--no-download", action="store_true", help="submit and follow only")
    merge.set_defaults(run=_merge)
    wait = commands.add_parser("wait", help="follow a merge until it ends")
    wait.add_argument("merge")
    wait.set_defaults(run=_wait)
    download = commands.add_parser("download", help="download a merge's files (resuming, SHA-256 checked)")
    download.add_argument("merge")
    download.add_argument("directory", type=Path)
    download.set_defaults(run=_download)
    return parser


def _merge(client: Client, args: argparse.Namespace, bar: Bar) -> int:
    config = load(args.config)
    uploaded, reused = [], []

    def stored(item: Input | None, name: str) -> str | None:
        if item is None:
            return None
        if item.id is not None:
            return item.id
        resource, sent = client.ensure(item.kind, item.path, name=name, on_progress=lambda f, d, t: bar.update(f"upload {f}", d, t))
        (uploaded if sent else reused).append(str(item.path))
        bar.say(f"{'uploaded' if sent else 'already stored'}: {item.path} → {item.kind} {resource.id}")
        return resource.id

    request = _request(config, stored)
    merge = client.submit_merge(request)
    bar.say(f"merge {merge.id} submitted ({config.method}, {len(config.models)} models)")
    merge = client.wait(merge.id, on_event=lambda e: _show(bar, e))
    bar.finish()
    files: list[Path] = []
    if not args.no_download:
        output = args.output or config.output or Path(f"merged-{merge.id}")
        files = client.download_merge(merge.id, output, on_progress=lambda f, d, t: bar.update(f"download {f}", d, t))
        bar.finish()
    report = client.get_merge_report(merge.id)
    _print_report(report, bar)
    if args.json:
        print(json.dumps({"merge": merge.id, "status": merge.status, "uploaded": uploaded, "reused": reused,
                          "files": [str(f) for f in files], "average": report.average.merged if report.average else None,
                          "accuracy": {a.task: a.merged for a in report.accuracy}}))
    return 0


def _request(config: MergeConfig, stored: Any) -> dict[str, Any]:
    tasks = []
    for task in config.models:
        entry = {"name": task.name, "checkpoint": stored(task.model, task.name), "head": stored(task.head, f"{task.name}-head"),
                 "adaptationData": stored(task.data, f"{task.name}-data"),
                 "evaluationData": stored(task.evaluation, f"{task.name}-evaluation")}
        tasks.append({k: v for k, v in entry.items() if v is not None})
    request = {"method": config.method, "base": stored(config.base, "base"), "tasks": tasks, "options": config.options}
    if config.metadata:
        request["metadata"] = config.metadata
    return request


def _show(bar: Bar, event: Any) -> None:
    if event.total_steps and event.step is not None:
        objective = f" objective {event.objective:.4f}" if event.objective is not None else ""
        bar.update(event.phase or event.type, event.step, event.total_steps, f"step {event.step}/{event.total_steps}{objective}")
    else:
        bar.say(f"{event.type}: {event.message}")


def _print_report(report: Any, bar: Bar) -> None:
    if not report.accuracy:
        return
    rows = [(a.task, a.merged, a.individual, a.base) for a in report.accuracy]
    if report.average is not None:
        rows.append(("average", report.average.merged, report.average.individual, report.average.base))
    cell = lambda v: "" if v is None else f"{100 * v:.1f}"  # noqa: E731
    bar.say(f"{'task':<20} {'merged':>8} {'individual':>11} {'pre-trained':>12}")
    for task, merged, individual, base in rows:
        bar.say(f"{task:<20} {cell(merged):>8} {cell(individual):>11} {cell(base):>12}")


def _wait(client: Client, args: argparse.Namespace, bar: Bar) -> int:
    merge = client.wait(args.merge, on_event=lambda e: _show(bar, e))
    bar.finish()
    print(json.dumps({"merge": merge.id, "status": merge.status}) if args.json else merge.status)
    return 0


def _download(client: Client, args: argparse.Namespace, bar: Bar) -> int:
    files = client.download_merge(args.merge, args.directory, on_progress=lambda f, d, t: bar.update(f"download {f}", d, t))
    bar.finish()
    print(json.dumps({"files": [str(f) for f in files]}) if args.json else "\n".join(str(f) for f in files))
    return 0


if __name__ == "__main__":
    sys.exit(main())
