"""Which jumps clear 1-1's pits when their rise is cut: take-off point, speed and frames of A, swept.

In SMB a jump rises for as long as A is held (up to its full height), so a random action that lets go of A in
the rise cuts the jump short: the loss behind most of the epsilon test's failures (docs/results.md). This asks the
emulator whether a cut jump can still clear each pit. It replays a model's greedy episode from the game's start
(``scripts/cut_jumps.py``'s) until Mario is ``--approach`` pixels before a pit, saves the emulator's state, and
from there, for each speed (walking: right; running: right + B) and each number of agent steps A is held
(``--holds``; 1 = cut at the first step after take-off), it holds the speed for n = 0, 1, 2, ... agent steps,
jumps, holds the speed again, and notes whether Mario reaches 16 pixels past the pit's far edge alive. It
prints, per pit, the take-off x_pos range that clears and how many of the take-offs tried did, and where the
network itself takes off on its greedy episode (its last jump from the ground before the pit's near edge: x_pos,
walking or running, the agent steps it holds A).

    python scripts/pit_jumps.py runs/ddqn-1-1-s0/final_model.zip
    python scripts/pit_jumps.py runs/ddqn-1-1-s0/final_model.zip --average   # its average of weights

The emulator is stepped frame by frame under the env's frame skip of 4 (one agent step = 4 frames); the pits are
1-1's first two, as x_pos of their near and far edges (the level's tile columns 69-70 and 86-88), which Mario
reaches on flat ground; the third (columns 153-154) lies between two staircases and is jumped from the top step,
which a run-up on flat ground does not model.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from cut_jumps import greedy_path  # scripts/ is on sys.path when a script runs

from sb3_mario.env.backend import action_sets
from sb3_mario.env.factory import action_set_of
from sb3_mario.errors import ConfigError
from sb3_mario.run.evaluation import Player, load_model, make_eval_env, model_config, played_network

RIGHT, B, A = 0b10000000, 0b00000010, 0b00000001  # nes-py's button bits
SPEEDS = {"walk": RIGHT, "run": RIGHT | B}
PITS_1_1 = ((1104, 1136), (1376, 1424))
FRAMES_PER_STEP = 4
PAST_THE_PIT = 16  # pixels past the far edge that count as cleared
AIR_FRAMES = 240  # frames after take-off to reach them
MAX_RUN_UP = 64  # agent steps of run-up, a bound for a Mario held back by a wall
PLAYER_STATE = 0x001D  # SMB's RAM: 0 on the ground, 1 jumping, 2 falling, 3 on a vine or the flagpole


class Emulator(Protocol):
    """What the sweep needs of the game: one saved state, frames, Mario's x_pos, whether he stands on the ground
    and whether he is dying."""

    def save(self) -> None: ...
    def load(self) -> None: ...
    def frame(self, buttons: int) -> None: ...
    @property
    def x_pos(self) -> int: ...
    @property
    def on_ground(self) -> bool: ...
    @property
    def dying(self) -> bool: ...


class NesEmulator:
    """:class:`Emulator` over gym-super-mario-bros' ``SuperMarioBrosEnv`` (nes-py's one backup slot)."""

    def __init__(self, nes: Any):
        self._nes = nes

    def save(self) -> None:
        """Take nes-py's one backup slot, which its ``reset()`` restores: no reset of the env after a save."""
        self._nes._backup()

    def load(self) -> None:
        self._nes._restore()
        self._nes.done = False  # nes-py refuses to step after a death until told otherwise

    def frame(self, buttons: int) -> None:
        self._nes.step(buttons)

    @property
    def x_pos(self) -> int:
        return int(self._nes._x_position)

    @property
    def on_ground(self) -> bool:
        return int(self._nes.ram[PLAYER_STATE]) == 0

    @property
    def dying(self) -> bool:
        return bool(self._nes._is_dying or self._nes._is_dead)


@dataclass(frozen=True)
class Hop:
    """One jump of the sweep: where it took off and whether it cleared the pit."""

    take_off: int
    cleared: bool


@dataclass(frozen=True)
class PathStep:
    """One agent step of the greedy episode: x_pos before it, the buttons it pressed, whether Mario stood on the
    ground before it and after it."""

    x_pos: int
    buttons: int
    grounded_before: bool
    grounded_after: bool


@dataclass(frozen=True)
class TakeOff:
    """The network's jump at a pit: x_pos at take-off, whether it ran (B held), the agent steps A stayed held."""

    x_pos: int
    running: bool
    held: int


def walk_path(env: Any, emulator: Emulator, actions: Sequence[int], buttons: Sequence[int]) -> list[PathStep]:
    """Play ``actions`` from the game's start (``buttons[a]``: action a's button bits), noting each step."""
    env.reset(seed=0)
    path = []
    for action in actions:
        x_pos, grounded = emulator.x_pos, emulator.on_ground
        env.step(action)
        path.append(PathStep(x_pos, buttons[action], grounded, emulator.on_ground))
    return path


def take_off(path: Sequence[PathStep], pit: tuple[int, int]) -> TakeOff | None:
    """The last jump from the ground (a step with A from the ground that leaves it) before the pit's near
    edge; None when the path has none."""
    jumps = [
        t
        for t, s in enumerate(path)
        if s.buttons & A and s.grounded_before and not s.grounded_after and s.x_pos < pit[0]
    ]
    if not jumps:
        return None
    t = jumps[-1]
    held = next((n for n, s in enumerate(path[t:]) if not s.buttons & A), len(path) - t)
    return TakeOff(path[t].x_pos, bool(path[t].buttons & B), held)


def hop(emulator: Emulator, speed: int, run_up: int, hold: int, pit: tuple[int, int]) -> Hop | None:
    """From the saved state: ``speed`` for ``run_up`` agent steps, ``speed`` + A for ``hold`` steps, then
    ``speed``; None when Mario dies or passes the pit's near edge before the take-off."""
    emulator.load()
    for _ in range(FRAMES_PER_STEP * run_up):
        emulator.frame(speed)
        if emulator.dying or emulator.x_pos >= pit[0]:
            return None
    take_off = emulator.x_pos
    frames = [speed | A] * (FRAMES_PER_STEP * hold) + [speed] * AIR_FRAMES
    for buttons in frames:
        emulator.frame(buttons)
        if emulator.dying:
            return Hop(take_off, False)
        if emulator.x_pos >= pit[1] + PAST_THE_PIT:
            return Hop(take_off, True)
    return Hop(take_off, False)


def sweep(emulator: Emulator, speed: int, hold: int, pit: tuple[int, int]) -> list[Hop]:
    """Every take-off before the pit's near edge, one agent step apart: run-ups of 0, 1, 2, ... steps (at most
    ``MAX_RUN_UP``)."""
    hops = []
    run_up = 0
    while run_up <= MAX_RUN_UP and (jump := hop(emulator, speed, run_up, hold, pit)) is not None:
        hops.append(jump)
        run_up += 1
    return hops


def clearing(hops: Sequence[Hop]) -> str:
    """The take-off x_pos that clear: ``first-last (cleared of tried)``, or ``none (of tried)``."""
    xs = [h.take_off for h in hops if h.cleared]
    if not xs:
        return f"none (of {len(hops)})"
    return f"{min(xs):,}-{max(xs):,} ({len(xs)} of {len(hops)})"


def button_bits(names: Sequence[str]) -> int:
    """An action's button bits as far as the sweep reads them: right, B and A (an action set's button names)."""
    bits = {"right": RIGHT, "B": B, "A": A}
    return sum(bit for name, bit in bits.items() if name in names)


def parse_holds(text: str) -> list[int]:
    """``--holds``: comma-separated agent steps, each >= 1."""
    try:
        holds = [int(h) for h in text.split(",")]
    except ValueError:
        holds = []
    if not holds or min(holds) < 1:
        raise ConfigError(f"holds must be comma-separated integers >= 1, actual value: {text}")
    return holds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a model zip whose greedy play brings Mario to each pit")
    parser.add_argument("--average", action="store_true", help="play the model's average of weights")
    parser.add_argument("--approach", type=int, default=160, help="pixels before a pit to start from (default: 160)")
    parser.add_argument(
        "--holds", default="1,2,8", help="agent steps A is held, comma-separated (default: 1,2,8; 8 = a full jump)"
    )
    args = parser.parse_args(argv)
    try:
        holds = parse_holds(args.holds)
        if args.approach < 1:
            raise ConfigError(f"approach must be >= 1, actual value: {args.approach}")
        config = model_config(args.model)
        if config.settings.level != "1-1":
            raise ConfigError(f"the pits are 1-1's, the model's level is {config.settings.level}")
        model = load_model(args.model, device="cpu")
        player = Player(model, network=played_network(model, args.average))
        env = make_eval_env(config, noop_max=0)
    except ConfigError as e:
        print(f"pit_jumps.py: error: {e}", file=sys.stderr)
        return 2
    emulator = NesEmulator(env.unwrapped.nes)
    buttons = [button_bits(names) for names in action_sets()[action_set_of(config.env_kwargs)]]
    print("| pit (x_pos of its edges) | speed | A held (agent steps) | take-off x_pos that clear |")
    print("| --- | --- | ---: | --- |")
    greedy, xs, _ = greedy_path(env, player)
    path = walk_path(env, emulator, greedy, buttons)
    env.reset(seed=0)  # the last reset: from the first save on, nes-py's reset would restore the saved state
    played = 0
    for pit in PITS_1_1:
        start = next((t + 1 for t, x in enumerate(xs) if x > pit[0] - args.approach), len(greedy))
        if start >= len(greedy):
            print(f"| {pit[0]:,}-{pit[1]:,} | the greedy episode ended before it | | |")
            continue
        for action in greedy[played:start]:  # on along the greedy episode, to the first step past the start
            env.step(action)
        played = start
        emulator.save()
        for name, speed in SPEEDS.items():
            for hold in holds:
                print(f"| {pit[0]:,}-{pit[1]:,} | {name} | {hold} | {clearing(sweep(emulator, speed, hold, pit))} |")
        if (jump := take_off(path, pit)) is not None:
            speed_name = "run" if jump.running else "walk"
            print(f"| {pit[0]:,}-{pit[1]:,} | {speed_name} | {jump.held} | the network takes off at {jump.x_pos:,} |")
        emulator.load()  # back to the env's state, to go on along the episode
    env.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
