"""Boond's part of `intermission tenant`: the `tenant add boond` flags, the next step in Boond, the state questions."""

from __future__ import annotations

import os

from handlers.hosts.registry import Cli

ACTION_KINDS = {"task", "reminder", "survey", "bench", "default"}
CASES = {"delivery": ("active", "natural", "client", "consultant", "cancelled"), "resource": ("active", "bench", "leaving", "left")}


def _flags(p) -> None:
    p.add_argument("--base-url", default=None)
    p.add_argument("--auth-mode", choices=["app", "client"], default="app")
    p.add_argument("--app-token", default=os.environ.get("BOOND_APP_TOKEN"))
    p.add_argument("--app-key", default=os.environ.get("BOOND_APP_KEY"), help="or BOOND_APP_KEY")
    p.add_argument("--client-token", default=os.environ.get("BOOND_CLIENT_TOKEN"))
    p.add_argument("--client-key", default=os.environ.get("BOOND_CLIENT_KEY"), help="or BOOND_CLIENT_KEY")
    p.add_argument("--user-token", default=os.environ.get("BOOND_USER_TOKEN"), help="the technical user's token (or BOOND_USER_TOKEN)")
    p.add_argument(
        "--action-type",
        action="append",
        default=[],
        metavar="KIND=ID",
        help="Boond action typeOf per kind (task, reminder, survey, bench or default); "
        "without it the tenant's 'Rappel / To do' type is read from its dictionary",
    )


def _settings(args):
    from config.infra.urls import checked_host_url
    from connectors.boond.settings import BoondConfig, boond_env

    base_url = checked_host_url(args.base_url or boond_env().boond_base_url, "--base-url")
    boond = BoondConfig(
        base_url=base_url,
        auth_mode=args.auth_mode,
        app_token=args.app_token,
        app_key=args.app_key,
        client_token=args.client_token,
        client_key=args.client_key,
        user_token=args.user_token or "",
        action_types=_action_types(args.action_type),
    )
    pair = (boond.app_token, boond.app_key) if boond.auth_mode == "app" else (boond.client_token, boond.client_key)
    missing = [n for n, v in zip((f"--{boond.auth_mode}-token", f"--{boond.auth_mode}-key"), pair) if not v]
    missing += [] if boond.user_token else ["--user-token"]
    if missing:
        raise ValueError("missing " + ", ".join(missing) + " (Boond needs them to sign every call)")
    return boond


def _action_types(pairs: list[str]) -> dict[str, int]:
    out = {}
    for pair in pairs:
        kind, _, value = pair.partition("=")
        if kind not in ACTION_KINDS or not value.isdigit():
            raise ValueError(f"--action-type “{pair}”: expected KIND=ID, KIND one of {', '.join(sorted(ACTION_KINDS))}, ID a number")
        out[kind] = int(value)
    return out


def _steps(tenant, links: dict, created: bool) -> None:
    if created:
        print(
            "In Boond: Administration > Webhooks > +, paste that URL and tick create/update/delete on "
            "delivery and resource (never on action: our own writes would come back)."
        )


def _questions(tenant, ask):
    """The proposed state mapping, taken as a whole or case by case."""
    from connectors.boond.settings import boond_settings

    cfg = boond_settings(tenant)
    labels = (cfg.state_labels if cfg else {}) or {}
    if not labels:
        return tenant
    from handlers.hosts.boond.setup import apply_states, proposed_states

    chosen = dict(zip(("delivery", "resource"), proposed_states(tenant)))
    if not ask.take_defaults:
        for kind, names in _state_labels(labels):
            print(f"{kind} states (your label → case):")
            for state_id, label in names.items():
                print(f"  {label or state_id} → {chosen[kind].get(state_id, 'not mapped')}")
        if ask("Use this mapping? (y/n)", "y").lower().startswith("n"):
            for kind, names in _state_labels(labels):
                for state_id, label in names.items():
                    answer = ask(f"{label or state_id}: one of {', '.join(CASES[kind])}", chosen[kind].get(state_id, ""))
                    if answer in CASES[kind]:
                        chosen[kind][state_id] = answer
    return apply_states(tenant, chosen["delivery"], chosen["resource"])


def _state_labels(labels: dict) -> list[tuple[str, dict]]:
    """The delivery and resource state labels (not the resource or inactivity types the dictionary may also list)."""
    return [(kind, labels[kind]) for kind in ("delivery", "resource") if kind in labels]


CLI = Cli(help="a BoondManager instance", flags=_flags, settings=_settings, steps=_steps, questions=_questions)
