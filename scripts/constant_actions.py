"""Constant-action baselines: how far the same action at every step gets in a run's evaluation env.

A learnt policy means something only beside the simplest ones. For each action of the env's action set
this plays, on the env that a run's evaluations play (``make_eval_env``: its level, action set and
``env_kwargs``), the run's greedy test (every no-op start once) and the bar's two robustness tests
(``Bar``: 100 episodes with epsilon 0.02, 100 with sticky actions 0.25, from the game's start, seed S),
and prints a Markdown table of wins.

    python scripts/constant_actions.py                        # the default preset's env
    python scripts/constant_actions.py runs/ddqn-1-1-s0       # a run folder's or model zip's env
    python scripts/constant_actions.py --seed 1 --actions 2   # one action, the tests' other seed
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from sb3_mario.env.backend import action_sets
from sb3_mario.env.factory import ACTION_SETS, action_set_of
from sb3_mario.errors import ConfigError
from sb3_mario.run.config import RunConfig, resolve
from sb3_mario.run.evaluation import Bar, ConstantPlayer, make_eval_env, model_config, play_episodes, summarize
from sb3_mario.run.seeding import seed_for


def baseline(config: RunConfig, action: int, seed: int, bar: Bar) -> dict[str, Any]:
    """Wins of ``action`` played at every step: greedy on every no-op start of the run's evaluations, and in
    the bar's two tests with ``seed``, as :meth:`Bar.check` plays them."""
    gamma = float(config.hyperparams.get("gamma", float("nan")))
    n_actions = ACTION_SETS[action_set_of(config.env_kwargs)]

    def player(epsilon: float, seed: int | None) -> ConstantPlayer:
        return ConstantPlayer(action, n_actions, epsilon, seed, gamma)

    env = make_eval_env(config)
    try:
        greedy = summarize(play_episodes(env, player(0.0, None), config.settings.eval_episodes, seed_for(seed, "play")))
    finally:
        env.close()
    summaries = {"greedy": greedy, **bar.play(config, player, seed)}
    row = {name: (summary["wins"], summary["episodes"], summary["mean_x_pos"]) for name, summary in summaries.items()}
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "model", nargs="?", help="a run folder or model zip whose env to play (default: the default preset's)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed S of the bar's tests (default: 0)")
    parser.add_argument("--actions", help="comma-separated actions to play (default: every action of the action set)")
    args = parser.parse_args(argv)
    try:
        config = model_config(args.model) if args.model else resolve()
        action_set = action_set_of(config.env_kwargs)
        buttons = action_sets()[action_set]
        actions = [int(a) for a in args.actions.split(",")] if args.actions else list(range(len(buttons)))
        bar = Bar()
        print(f"level {config.settings.level}, env_kwargs {config.env_kwargs}, seed {args.seed}\n")
        sticky = bar.repeat_action_probability
        print(f"| action | greedy, every no-op start | epsilon {bar.epsilon} | sticky actions {sticky} |")
        print("| --- | ---: | ---: | ---: |")
        for action in actions:
            if not 0 <= action < len(buttons):
                raise ConfigError(f"action must be in 0..{len(buttons) - 1} for {action_set}, actual value: {action}")
            row = baseline(config, action, args.seed, bar)
            cells = [f"{wins} of {episodes} ({x_pos:,.0f})" for wins, episodes, x_pos in row.values()]
            print(f"| {action}: {' + '.join(buttons[action])} | {' | '.join(cells)} |", flush=True)
    except (ConfigError, ValueError) as e:
        print(f"constant_actions.py: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
