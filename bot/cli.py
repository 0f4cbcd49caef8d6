"""clea-bot: the command line.

clea-bot            Telegram when TELEGRAM_BOT_TOKEN is set, else the console chat
clea-bot console    the conversation in a terminal (scriptable through stdin)
clea-bot telegram   the Telegram bot (polling, or webhook with CLEA_WEBHOOK_URL)
clea-bot check      validate every content file and template; exit 1 on problems
clea-bot graph      print the conversation map as a Mermaid diagram
clea-bot stats      anonymous figures of every adviser link (--csv to export)
clea-bot directory update [--from DIR] [--out FILE] [--force]
                    download and install the open-data directory of local offices
clea-bot directory explain PLACE [--situation S] [--disability] [--directory FILE]
                    what "Ma fiche" names for that place and situation, and why
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from pathlib import Path

from bot.config import Config, ConfigError


def _setup_logging(level: str, token: str | None = None) -> None:
    from bot.logs import setup

    setup(level, token=token)


def cmd_check(args: argparse.Namespace, config: Config) -> int:
    from bot.advisers import load_advisers
    from dialogs.checks import check_all
    from knowledge.loader import ContentError
    from knowledge.opendata import settings_problems

    problems = check_all(content_dir=args.content, extra_directory=config.directory_extra)
    problems = [*problems, *settings_problems(args.content)]
    try:
        load_advisers(config.advisers_file)
    except ContentError as exc:
        problems = [*problems, *exc.problems]
    _warn_directory_age(config)
    from dialogs.checks import money_due

    for line in money_due(args.content):  # a warning: still true, to check again soon
        print(line, file=sys.stderr)
    if problems:
        print(f"{len(problems)} problème(s) dans le contenu :", file=sys.stderr)
        for p in problems:
            print(f"- {p}", file=sys.stderr)
        return 1
    print("Contenu et modèles valides.")
    return 0


def _warn_directory_age(config: Config) -> None:
    """A warning, not a failure: an old directory is still better than none."""
    import datetime as dt
    import sqlite3

    from knowledge.opendata import load_settings, open_directory

    try:
        directory = open_directory(config.local_directory)
    except ValueError as exc:  # an older format: says which and what to run
        print(f"Attention : annuaire local ignoré : {exc}", file=sys.stderr)
        return
    except (sqlite3.DatabaseError, KeyError):
        print(
            f"Attention : l'annuaire local {config.local_directory} est illisible.", file=sys.stderr
        )
        return
    if directory is None:
        print(
            "Annuaire local absent : le bot donne les contacts nationaux "
            "(clea-bot directory update pour l'installer)."
        )
        return
    age = (dt.datetime.now() - directory.installed).days
    max_age = load_settings().max_age_days
    if age > max_age:
        print(
            f"Attention : l'annuaire local a {age} jours (plus de {max_age}). "
            "Lancez clea-bot directory update.",
            file=sys.stderr,
        )
    else:
        print(f"Annuaire local du {directory.extracted or '?'} (installé il y a {age} jours).")
    directory.close()


def cmd_graph(args: argparse.Namespace, config: Config) -> int:
    from dialogs.graph import mermaid, page
    from knowledge.loader import load

    knowledge = load(extra_directory=config.directory_extra)
    if args.output:
        # A .md file gets the documentation page (docs/conversation.md), else bare Mermaid.
        output = Path(args.output)
        text = page(knowledge) if output.suffix == ".md" else mermaid(knowledge)
        output.write_text(text, encoding="utf-8")
    else:
        print(mermaid(knowledge))
    return 0


def cmd_stats(args: argparse.Namespace, config: Config) -> int:
    from bot.advisers import all_figures_table
    from bot.storage import Storage

    storage = Storage(config.db_path)
    try:
        print(all_figures_table(storage, csv=args.csv))
    finally:
        storage.close()
    return 0


def cmd_directory(args: argparse.Namespace, config: Config) -> int:
    from bot.directory_update import UpdateRefused, update
    from knowledge.opendata import MalformedInput, load_settings

    if args.action == "explain":
        return cmd_directory_explain(args, config)
    out = args.out or config.local_directory
    try:
        text = update(load_settings(), out, args.source, args.force)
    except (UpdateRefused, MalformedInput) as exc:
        print(
            f"Mise à jour refusée, le fichier installé n'a pas changé ({out}) :\n{exc}",
            file=sys.stderr,
        )
        return 1
    print(text)
    print(f"Installé : {out}")
    return 0


def cmd_directory_explain(args: argparse.Namespace, config: Config) -> int:
    import sqlite3

    from bot.directory_explain import run
    from knowledge.loader import load
    from knowledge.opendata import load_settings

    try:
        code, text = run(
            " ".join(args.place),
            args.situation,
            args.disability,
            args.directory or config.local_directory,
            load(extra_directory=config.directory_extra),
            load_settings(),
            handoff=config.adviser_chat_id is not None,
        )
    except (ValueError, sqlite3.DatabaseError) as exc:  # an unreadable or older file
        code, text = 1, f"Annuaire illisible : {exc}"
    print(text, file=sys.stdout if code == 0 else sys.stderr)
    return code


def cmd_console(args: argparse.Namespace, config: Config) -> int:
    from bot.app import build_engine, open_storage, voice_service
    from bot.channels.console import Console

    engine = build_engine(config)
    storage = open_storage(config)
    try:
        Console(
            engine,
            storage,
            user=f"console:{args.user}",
            shared_chat=config.adviser_chat_id,
            voice=voice_service(config),
        ).run()
    finally:
        storage.close()
    return 0


def cmd_telegram(args: argparse.Namespace, config: Config) -> int:
    from bot.channels.telegram import run

    if not config.token:
        print("TELEGRAM_BOT_TOKEN n'est pas défini. Voir le README.", file=sys.stderr)
        return 2
    try:
        run(config)
    except Exception as exc:  # fatal: a non-zero exit lets the supervisor restart the bot
        import logging

        logging.getLogger("bot").critical("the bot stopped: %s", type(exc).__name__)
        return 1
    return 0


def cmd_run(args: argparse.Namespace, config: Config) -> int:
    if config.token:
        return cmd_telegram(args, config)
    args.user = "local"
    return cmd_console(args, config)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="clea-bot", description="Assistant CléA")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="Telegram si TELEGRAM_BOT_TOKEN est défini, sinon la console")
    console_cmd = sub.add_parser("console", help="la conversation dans le terminal")
    console_cmd.add_argument("--user", default="local", help="nom de l'utilisateur de console")
    sub.add_parser("telegram", help="le bot Telegram")
    check = sub.add_parser("check", help="valider le contenu et les modèles")
    check.add_argument("--content", type=Path, default=None, help="dossier du contenu")
    graph = sub.add_parser("graph", help="la carte de la conversation (Mermaid)")
    graph.add_argument("-o", "--output", help="fichier de sortie")
    stats = sub.add_parser("stats", help="chiffres anonymes de tous les liens de conseillers")
    stats.add_argument("--csv", action="store_true", help="sortie CSV")
    directory = sub.add_parser("directory", help="l'annuaire local des données ouvertes")
    directory_sub = directory.add_subparsers(dest="action", required=True)
    update = directory_sub.add_parser("update", help="télécharger et installer l'annuaire")
    update.add_argument(
        "--from",
        dest="source",
        type=Path,
        default=None,
        help="dossier d'exports déjà téléchargés (rejouer)",
    )
    update.add_argument(
        "--out", type=Path, default=None, help="fichier installé (défaut : CLEA_LOCAL_DIRECTORY)"
    )
    update.add_argument(
        "--force",
        action="store_true",
        help="installer malgré une forte baisse d'un réseau ou trop de lignes écartées",
    )
    explain = directory_sub.add_parser(
        "explain", help="ce que la fiche nommera pour un lieu et une situation, et pourquoi"
    )
    explain.add_argument("place", nargs="+", help="code postal ou commune (ex. 42000)")
    explain.add_argument(
        "--situation",
        default="job_seeker",
        choices=["job_seeker", "young", "employee", "self_employed", "public_agent", "other"],
        help="situation de la personne (défaut : job_seeker)",
    )
    explain.add_argument(
        "--disability", action="store_true", help="la personne a une reconnaissance de handicap"
    )
    explain.add_argument(
        "--directory",
        type=Path,
        default=None,
        help="fichier installé (défaut : CLEA_LOCAL_DIRECTORY)",
    )
    args = parser.parse_args(argv)
    try:
        config = Config.from_env()
    except ConfigError as exc:
        print(f"Configuration : {exc}", file=sys.stderr)
        return 2
    if args.command == "telegram" or (args.command in (None, "run") and config.token):
        # Start-up makes some 200k objects that live as long as the bot; collecting while
        # they are made cost about a quarter of a second. Collection resumes once they
        # are frozen (bot.loopwatch.freeze_startup_objects).
        gc.disable()
    from knowledge.loader import ContentError

    if args.command not in ("check", "graph", "stats", "directory"):
        console = args.command == "console" or (args.command in (None, "run") and not config.token)
        # In the console chat, log lines would mix with the conversation.
        quiet = console and "CLEA_LOG_LEVEL" not in os.environ
        _setup_logging("WARNING" if quiet else config.log_level, config.token)
    handlers = {
        "run": cmd_run,
        None: cmd_run,
        "console": cmd_console,
        "telegram": cmd_telegram,
        "check": cmd_check,
        "graph": cmd_graph,
        "stats": cmd_stats,
        "directory": cmd_directory,
    }
    try:
        return handlers[args.command](args, config)
    except ContentError as exc:
        print(f"Le contenu n'est pas valide :\n{exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
