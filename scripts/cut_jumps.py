"""Which single random actions kill a model: every step of its greedy episode, replaced by each other action.

The bar's epsilon test (``sb3-mario evaluate -n 100 --epsilon 0.02``) replaces one action in 50 by a random one.
This finds, on the greedy episode from the game's start (no no-op frame) in the model's evaluation env, the steps
where one such replacement is fatal: it replays the episode's actions up to step t, plays another action at t,
lets the network play on greedily, and counts a loss when the episode ends lost within ``--horizon`` agent steps
of the replacement. It prints each fatal replacement (step, x_pos, the network's action and the one played
instead) and the loss that epsilon would cause through such single replacements alone:
``1 - prod_t (1 - epsilon * fatal_t / n_actions)``, ``fatal_t`` being the number of actions fatal at step t.

    python scripts/cut_jumps.py runs/ddqn-1-1-s0/final_model.zip
    python scripts/cut_jumps.py runs/ddqn-1-1-s0/eval/best_average_model.zip --average
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from sb3_mario.env.backend import action_sets
from sb3_mario.env.factory import action_set_of
from sb3_mario.errors import ConfigError
from sb3_mario.run.evaluation import Player, load_model, make_eval_env, model_config, played_network


def replay(env: Any, actions: list[int], player: Any, horizon: int) -> tuple[bool, int]:
    """Play ``actions``, then the player greedily for up to ``horizon`` steps: whether the episode was lost
    in that time, and the x_pos where it ended or stood."""
    obs, _ = env.reset(seed=0)
    info: dict[str, Any] = {"x_pos": 0}
    for i in range(len(actions) + horizon):
        action = actions[i] if i < len(actions) else player(obs)
        obs, _, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            return not info["is_success"], int(info["x_pos"])
    return False, int(info["x_pos"])


def greedy_path(env: Any, player: Any) -> tuple[list[int], list[int], bool]:
    """The greedy episode from the game's start: its actions, the x_pos after each, and whether it was won."""
    obs, _ = env.reset(seed=0)
    actions, xs = [], []
    while True:
        actions.append(player(obs))
        obs, _, terminated, truncated, info = env.step(actions[-1])
        xs.append(int(info["x_pos"]))
        if terminated or truncated:
            return actions, xs, bool(info["is_success"])


def fatal_replacements(
    env: Any, player: Any, greedy: list[int], n_actions: int, horizon: int
) -> list[tuple[int, list[tuple[int, int]]]]:
    """For each step of ``greedy`` with a fatal replacement: the step, and each fatal action with the x_pos where
    its episode ended."""
    rows = []
    for t, action in enumerate(greedy):
        fatal = []
        for other in range(n_actions):
            if other != action:
                lost, x_end = replay(env, [*greedy[:t], other], player, horizon)
                if lost:
                    fatal.append((other, x_end))
        if fatal:
            rows.append((t, fatal))
    return rows


def predicted_loss(rows: list[tuple[int, list[tuple[int, int]]]], epsilon: float, n_actions: int) -> float:
    """The share of episodes that epsilon loses through single fatal replacements on the path."""
    survive = 1.0
    for _, fatal in rows:
        survive *= 1 - epsilon * len(fatal) / n_actions
    return 1 - survive


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a model zip (its run's config.yaml beside it gives the env)")
    parser.add_argument("--average", action="store_true", help="play the model's average of weights")
    parser.add_argument("--horizon", type=int, default=12, help="agent steps after the replacement (default: 12)")
    parser.add_argument("--epsilon", type=float, default=0.02, help="epsilon of the predicted loss (default: 0.02)")
    args = parser.parse_args(argv)
    try:
        if args.horizon < 1:
            raise ConfigError(f"horizon must be >= 1, actual value: {args.horizon}")
        config = model_config(args.model)
        model = load_model(args.model, device="cpu")
        buttons = action_sets()[action_set_of(config.env_kwargs)]
        player = Player(model, network=played_network(model, args.average))
        env = make_eval_env(config, noop_max=0)
    except ConfigError as e:
        print(f"cut_jumps.py: error: {e}", file=sys.stderr)
        return 2
    greedy, xs, won = greedy_path(env, player)
    print(f"greedy episode: {len(greedy)} steps, {'won' if won else 'lost'} at x_pos {xs[-1]}\n")
    print("| step | x_pos before it | network's action | fatal instead | ended at x_pos |")
    print("| ---: | ---: | --- | --- | --- |")
    rows = fatal_replacements(env, player, greedy, len(buttons), args.horizon)
    env.close()
    for t, fatal in rows:
        names = ", ".join(f"{o}: {' + '.join(buttons[o])}" for o, _ in fatal)
        ends = ", ".join(str(x) for _, x in fatal)
        action = greedy[t]
        print(f"| {t} | {xs[t - 1] if t else 0} | {action}: {' + '.join(buttons[action])} | {names} | {ends} |")
    loss = predicted_loss(rows, args.epsilon, len(buttons))
    print(
        f"\n{len(rows)} of {len(greedy)} steps have a fatal replacement; epsilon {args.epsilon} would lose "
        f"{100 * loss:.1f} % of episodes through single replacements on this path"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
