"""The vault's command-line commands (``veil vault ...``, ``veil serve detokenize``, and
``veil detokenize --service``); ``veil.cli`` only registers them."""

from __future__ import annotations

import argparse
import os
import sys

from veil.settings import resolve_plan

_POLICY_HELP = "policy YAML file with vault tokens (default: $VEIL_POLICY)"


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``vault`` and ``serve`` on the ``veil`` parser's subcommands."""
    p = sub.add_parser("vault", help="administer a policy's token vault (erasure, key rotation)")
    vault_sub = p.add_subparsers(dest="vault_command", required=True)
    q = vault_sub.add_parser("forget", help="make every token of one data subject unresolvable (right to erasure)")
    q.add_argument("subject", help="the subject's id, as the rules' subject: selector reads it from bodies")
    q.add_argument("--policy", "-p", help=_POLICY_HELP)
    q.set_defaults(func=cmd_forget)
    q = vault_sub.add_parser("rotate", help="re-wrap stored values under the policy's active key (tokens stay)")
    q.add_argument("--policy", "-p", help=_POLICY_HELP)
    q.set_defaults(func=cmd_rotate)

    p = sub.add_parser("serve", help="run a veil service")
    serve_sub = p.add_subparsers(dest="serve_command", required=True)
    q = serve_sub.add_parser("detokenize", help="the detokenize service: clients with API keys resolve vault tokens")
    q.add_argument("--policy", "-p", help=_POLICY_HELP)
    q.add_argument("--clients", required=True, help="clients file: API keys (from env), grants, rate limits")
    q.add_argument("--listen", default="127.0.0.1:8700", help="HOST:PORT to listen on (default: 127.0.0.1:8700)")
    q.add_argument("--audit-log", help="file to append one JSON line per request to (default: stdout)")
    q.add_argument("--ssl-certfile", help="TLS certificate (PEM) (default: plain HTTP)")
    q.add_argument("--ssl-keyfile", help="TLS private key (PEM) (default: plain HTTP)")
    q.set_defaults(func=cmd_serve_detokenize)


def cmd_forget(args: argparse.Namespace) -> int:
    from veil.vault.admin import forget_subject

    plan = resolve_plan(args.policy or None)
    count = forget_subject(plan, args.subject)
    print(f"veil vault forget: {count} token(s) of the subject made unresolvable; other processes stop "
          "resolving them within their cache_ttl", file=sys.stderr)
    return 0


def cmd_rotate(args: argparse.Namespace) -> int:
    from veil.vault.admin import rotate

    plan = resolve_plan(args.policy or None)
    print(f"veil vault rotate: {rotate(plan)} value(s) re-wrapped under the active key", file=sys.stderr)
    return 0


def cmd_serve_detokenize(args: argparse.Namespace) -> int:
    from veil.vault.clients import load_clients
    from veil.vault.service import serve

    host, sep, port = args.listen.rpartition(":")
    if not sep or not port.isdigit():
        print(f"veil serve detokenize: --listen must be HOST:PORT, got {args.listen!r}", file=sys.stderr)
        return 2
    if bool(args.ssl_certfile) != bool(args.ssl_keyfile):
        print("veil serve detokenize: give both --ssl-certfile and --ssl-keyfile, or neither", file=sys.stderr)
        return 2
    plan = resolve_plan(args.policy or None)
    clients = load_clients(args.clients)
    serve(plan, clients, host=host.strip("[]") or "127.0.0.1", port=int(port), audit_log=args.audit_log,
          ssl_certfile=args.ssl_certfile, ssl_keyfile=args.ssl_keyfile)
    return 0


def detokenize_via_service(args: argparse.Namespace, data: bytes, content_type: str) -> int:
    """``veil detokenize --service URL --client-key-env VAR``: the service restores what this client may see."""
    import httpx

    from veil.vault.client import DetokenizeClient, DetokenizeError

    key = os.environ.get(args.client_key_env or "")
    if not key:
        print(f"veil detokenize: give --client-key-env naming a set environment variable "
              f"(got {args.client_key_env!r})", file=sys.stderr)
        return 2
    try:
        with DetokenizeClient(args.service, key) as client:
            out = client.detokenize(data, content_type)
    except (DetokenizeError, httpx.HTTPError) as exc:
        print(f"veil detokenize: {exc.__class__.__name__}: {exc}", file=sys.stderr)
        return 1
    sys.stdout.buffer.write(out)
    sys.stdout.flush()
    return 0
