"""Training throughput (env steps/s): the `ddqn` preset against its bound, or the `article` preset's contenders.

Usage:
    python bench/train_throughput.py --preset ddqn [--steps 3000] [--warmup 2000] [--threads 1,2] [--repeats 3]
                                     [--loops synchronous,overlapped,overlapped+bf16] [--device cpu] [--config FILE]
    python bench/train_throughput.py [--preset article] [--steps 1500] [--threads 1,2] [--device cpu]

``--preset ddqn`` times each part of the default preset's training on this machine (one env step of
the emulator with its preprocessing, acting on the envs' observations, one batch sample, one update
with its sample, at the learner's threads and at one, and with ``mixed_precision``) and the bounds
they imply (``ddqn_bounds``: the parts back to back, and every core busy). Then it trains the preset
with each of ``--loops`` side by side (SB3's synchronous loop, ``overlap_updates``, and either with
``+bf16``: ``mixed_precision``), with the threads ``sb3-mario train`` uses (or each of ``--threads``),
``--repeats`` rounds in alternating order, and prints each rate (the median of the rounds), its
ratios to the float32 bounds and the CPU milliseconds it used per env step (learner and env workers:
what decides the rate of runs side by side on a saturated machine), the last pair on the last line.
``--warmup`` replaces the preset's ``learning_starts`` (random steps that fill the buffer first);
the rate is measured over the ``--steps`` env steps after it.

``--preset article``: every contender trains on the same preprocessed 1-1 env with the tutorial's
settings: one update of batch 32 per env step from the 32nd transition, buffer 30,000. Steps/s is
measured after the first 100 steps (allocation and warm-up excluded).
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import torch

from sb3_mario import make_mario_env  # first: it imports the legacy gym quietly

from stable_baselines3.common.callbacks import BaseCallback  # isort: skip
import tutorial_agent  # noqa: E402  (bench/ is on sys.path when run as a script)

from sb3_mario.run.config import RunConfig, build_callbacks, resolve, with_overrides
from sb3_mario.run.threads import set_torch_threads
from sb3_mario.run.training import build_model

WARMUP = 100

#: The training loops ``--loops`` picks from, and the hyperparameters that make each.
LOOPS: dict[str, dict[str, bool]] = {
    "synchronous": {"overlap_updates": False},
    "overlapped": {"overlap_updates": True},
    "synchronous+bf16": {"overlap_updates": False, "mixed_precision": True},
    "overlapped+bf16": {"overlap_updates": True, "mixed_precision": True},
}


class _Clock(BaseCallback):
    """Notes the time, and the CPU seconds used (:func:`_cpu_seconds`), when ``num_timesteps`` reaches
    ``start_at``."""

    def __init__(self, start_at: int = WARMUP):
        super().__init__()
        self.start_at = start_at
        self.start = 0.0
        self.cpu = 0.0

    def _on_step(self) -> bool:
        if not self.start and self.num_timesteps >= self.start_at:
            self.cpu = _cpu_seconds(self.model)
            self.start = time.perf_counter()
        return True


def _per_call(fn, n: int, repeats: int = 5) -> float:
    """Seconds per call of ``fn()``: the least mean of ``repeats`` rounds of ``n`` calls, after one
    untimed call (as ``timeit`` advises: the others measure what else ran on the machine)."""
    fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - start) / n)
    return best


def cpu_name() -> str:
    """The CPU's model name (Linux), or the platform's processor string."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def ddqn_parts(config: RunConfig, n: int = 300) -> dict[str, float]:
    """Seconds per part of the preset's training: an env step, acting, a batch sample, an update."""
    hp = config.split()
    env = make_mario_env(config.settings.level, **config.env_kwargs)
    env.reset(seed=0)
    actions = iter(np.random.default_rng(0).integers(env.action_space.n, size=10 * n))

    def env_step() -> None:
        _, _, terminated, truncated, _ = env.step(int(next(actions)))
        if terminated or truncated:
            env.reset()

    parts = {"env step": _per_call(env_step, n // 5)}
    env.close()
    model = build_model(config, vec_env="dummy")
    model.verbose = 0
    model.learn(int(hp.model_kwargs["learning_starts"]))  # random actions into the buffer, no update
    obs = model._last_obs
    batch = int(hp.model_kwargs.get("batch_size", 32))
    parts["acting"] = _per_call(lambda: model.predict(obs, deterministic=True), n // 5)
    parts["sample"] = _per_call(lambda: model.replay_buffer.sample(batch), n // 5)
    parts["update"] = _per_call(lambda: model.train(gradient_steps=1, batch_size=batch), n // 15)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    parts["update, 1 thread"] = _per_call(lambda: model.train(gradient_steps=1, batch_size=batch), n // 15)
    torch.set_num_threads(threads)
    model.mixed_precision = True
    parts["update, bf16 autocast"] = _per_call(lambda: model.train(gradient_steps=1, batch_size=batch), n // 15)
    model.get_env().close()
    return parts


def adam_steps(n: int = 50) -> dict[str, float]:
    """Seconds per Adam step over the preset network's parameters: PyTorch's CPU default (a loop over
    the tensors), ``foreach=True`` and ``fused=True`` (what ``MarioCnnPolicy`` asks for)."""
    from sb3_mario import DoubleDQN

    env = make_mario_env("1-1")
    costs = {}
    for name, kwargs in (("looped", {"fused": False}), ("foreach", {"foreach": True}), ("fused", {"fused": True})):
        model = DoubleDQN(
            "MarioCnnPolicy", env, buffer_size=10, seed=0, device="cpu", policy_kwargs={"optimizer_kwargs": kwargs}
        )
        for p in model.policy.parameters():
            p.grad = torch.randn_like(p)
        costs[f"Adam step, {name}"] = _per_call(model.policy.optimizer.step, n // 5)
    env.close()
    return costs


def ddqn_bounds(config: RunConfig, parts: dict[str, float], cores: int) -> tuple[float, float]:
    """Two bounds on the preset's env steps/s, per env step: the emulators of ``n_envs`` envs, one
    acting call for all envs, and ``gradient_steps`` updates (their samples included) per
    ``train_freq`` steps of every env.

    * back to back: the parts one after another at their wall times (emulators side by side on
      ``min(cores, n_envs)`` cores, updates at the learner's threads): SB3's synchronous loop
      without overhead.
    * every core busy: each part's single-thread cost spread over all cores, nothing idle: what no
      loop can beat (while the update's threads speed it up less than their number).
    """
    hp = config.split()
    n_envs = hp.n_envs
    updates_per_step = int(hp.model_kwargs["gradient_steps"]) / (int(hp.model_kwargs["train_freq"]) * n_envs)
    acting = parts["acting"] / n_envs
    back_to_back = parts["env step"] / min(cores, n_envs) + acting + parts["update"] * updates_per_step
    busy = (parts["env step"] + acting + parts["update, 1 thread"] * updates_per_step) / cores
    return 1.0 / back_to_back, 1.0 / busy


def _cpu_seconds(model) -> float:
    """CPU seconds used so far by this process (all its threads) and the model's Subproc env workers."""
    env = model.get_env()
    while hasattr(env, "venv"):
        env = env.venv
    ticks = os.sysconf("SC_CLK_TCK")
    total = time.process_time()
    for process in getattr(env, "processes", []):
        with open(f"/proc/{process.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime and stime
    return total


def ddqn_rate(config: RunConfig, steps: int) -> tuple[float, float]:
    """Env steps/s of the preset's training (Subproc envs, as ``sb3-mario train``), over ``steps``
    env steps after ``learning_starts``, and the CPU milliseconds per env step over the same steps
    (learner and env workers: what two runs side by side on a saturated machine divide)."""
    model = build_model(config)
    model.verbose = 0  # no log tables between the lines of the bench
    start_at = int(config.hyperparams["learning_starts"])
    clock = _Clock(start_at)
    model.learn(start_at + steps, callback=clock)
    steps_timed = model.num_timesteps - start_at
    rate = steps_timed / (time.perf_counter() - clock.start)
    cpu_ms = (_cpu_seconds(model) - clock.cpu) / steps_timed * 1000
    model.get_env().close()
    return rate, cpu_ms


def ddqn_main(args: argparse.Namespace) -> None:
    threads = set_torch_threads("learn")
    cores = os.cpu_count() or 1
    base = resolve(config_file=args.config) if args.config else resolve("ddqn")
    config = with_overrides(base, {"learning_starts": args.warmup}, {"device": args.device, "eval_freq": 0})
    print(
        f"machine: {cpu_name()}, {cores} cores; torch {torch.__version__}, {threads or torch.get_num_threads()} "
        f"threads, device {args.device}; {args.config or 'preset ddqn'} ({config.split().n_envs} Subproc envs, "
        f"learning_starts {args.warmup}), {args.steps} env steps timed"
    )
    parts = ddqn_parts(config)
    for name, seconds in {**parts, **adam_steps()}.items():
        print(f"{name:>20}: {seconds * 1000:6.2f} ms")
    back_to_back, bound = ddqn_bounds(config, parts, cores)
    print(f"bound, parts back to back: {back_to_back:5.1f} env steps/s")
    print(f"bound, every core busy:    {bound:5.1f} env steps/s")
    counts = [int(t) for t in args.threads.split(",")] if args.threads else [torch.get_num_threads()]
    loops = args.loops.split(",")
    unknown = sorted(set(loops) - set(LOOPS))
    if unknown:
        raise SystemExit(f"unknown loop {unknown[0]!r}: valid loops are {', '.join(LOOPS)}")
    runs = [(n, loop) for n in counts for loop in loops]
    rates: dict[tuple[int, str], list[float]] = {run: [] for run in runs}
    cpu: dict[tuple[int, str], list[float]] = {run: [] for run in runs}
    for round_ in range(args.repeats):  # rounds alternate the order: drifts of the machine fall on every loop
        for n, loop in runs if round_ % 2 == 0 else runs[::-1]:
            torch.set_num_threads(n)
            rate, cpu_ms = ddqn_rate(with_overrides(config, LOOPS[loop]), args.steps)
            rates[(n, loop)].append(rate)
            cpu[(n, loop)].append(cpu_ms)
            if args.repeats > 1:
                print(f"round {round_ + 1}, {loop} ({n} thr): {rate:.1f} env steps/s, {cpu_ms:.1f} CPU ms per env step")
    lines = []
    for (n, loop), measured in rates.items():
        rate = float(np.median(measured))
        lines.append(
            f"{loop} ({n} thr{f', median of {len(measured)}' if len(measured) > 1 else ''}): {rate:.1f} env steps/s, "
            f"{rate / back_to_back:.2f} of the back-to-back bound, {rate / bound:.2f} of the every-core-busy bound, "
            f"{float(np.median(cpu[(n, loop)])):.1f} CPU ms per env step"
        )
    for line in lines[:-2]:
        print(line)
    print("; ".join(lines[-2:]))


def sb3_rate(algo: str, steps: int, device: str) -> float:
    hp = resolve("article", settings={"algo": algo}).split()
    model = hp.algo(hp.policy, make_mario_env("1-1"), seed=0, device=device, **hp.model_kwargs)
    clock = _Clock()
    model.learn(steps, callback=[clock, *build_callbacks(hp.callback)])
    return (steps - WARMUP) / (time.perf_counter() - clock.start)


def tutorial_rate(steps: int, device: str) -> float:
    env = make_mario_env("1-1")
    tutorial_agent.run(env, WARMUP, device)  # warm-up on its own agent
    start = time.perf_counter()
    tutorial_agent.run(env, steps - WARMUP, device)
    return (steps - WARMUP) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=("article", "ddqn"), default="article")
    parser.add_argument("--steps", type=int, default=None, help="env steps timed (1500 article, 3000 ddqn)")
    parser.add_argument("--warmup", type=int, default=2000, help="ddqn: learning_starts, random steps first")
    parser.add_argument(
        "--threads", default=None, help="torch intra-op thread counts to measure (article: 1,2; ddqn: the cores)"
    )
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=1, help="ddqn: rounds of the loops, in alternating order")
    parser.add_argument(
        "--loops", default="synchronous,overlapped", help=f"ddqn: the loops to train, of {', '.join(LOOPS)}"
    )
    parser.add_argument(
        "--config", default=None, help="ddqn: a hyperparams file instead of the preset (e.g. docs/configs/*.yml)"
    )
    args = parser.parse_args()
    if args.preset == "ddqn":
        args.steps = args.steps or 3000
        ddqn_main(args)
        return
    args.steps = args.steps or 1500
    args.threads = args.threads or "1,2"
    print(
        f"device: {args.device}{' (' + torch.cuda.get_device_name() + ')' if args.device == 'cuda' else ''}, "
        f"torch {torch.__version__}, {args.steps} steps"
    )
    print(f"{'threads':>7}  {'DoubleDQN':>10}  {'SB3 DQN':>9}  {'tutorial':>9}  {'DDQN/DQN':>9}  {'DDQN/tutorial':>13}")
    for threads in (int(t) for t in args.threads.split(",")):
        torch.set_num_threads(threads)
        ddqn = sb3_rate("ddqn", args.steps, args.device)
        dqn = sb3_rate("dqn", args.steps, args.device)
        tut = tutorial_rate(args.steps, args.device)
        print(f"{threads:>7}  {ddqn:>10.1f}  {dqn:>9.1f}  {tut:>9.1f}  {ddqn / dqn:>9.2f}  {ddqn / tut:>13.2f}")


if __name__ == "__main__":
    main()
