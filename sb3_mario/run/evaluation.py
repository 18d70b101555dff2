"""The one evaluation path: models and their run configs, the evaluation env, playing episodes, summaries.

Training evaluations (:class:`~sb3_mario.run.callbacks.EvalCallback`), tuning trials and the
``evaluate`` and ``record`` commands all build their env with :func:`make_eval_env` from a run
config and play it with :func:`play_episodes`.
"""

from __future__ import annotations

import json
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from sb3_mario.env import make_mario_env
from sb3_mario.env.factory import action_set_of
from sb3_mario.env.levels import level_names, parse_level
from sb3_mario.errors import ConfigError
from sb3_mario.run.config import CONFIG_FILE, RunConfig, resolve, setting, with_overrides
from sb3_mario.run.seeding import seed_for


def load_model(path: str | Path, device: str = "auto") -> Any:
    """Load a DQN or DoubleDQN zip, with one clear error for a missing or broken file."""
    from sb3_mario.agent.double_dqn import DoubleDQN

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"model file not found: {path}")
    if not zipfile.is_zipfile(path):
        raise ConfigError(f"{path} is not a model zip (not a zip archive)")
    try:
        return DoubleDQN.load(path, device=device)  # also reads DQN zips: same parameters
    except Exception as e:  # a zip without SB3's data, or from an unrelated algorithm
        raise ConfigError(f"{path} is not a DQN/DoubleDQN model zip ({type(e).__name__}: {e})") from None


def find_model(source: str | Path) -> tuple[Path, Path | None]:
    """The model zip and run config behind ``source``: a model zip, or a run folder.

    In a run folder the model is ``final_model.zip``, else the last checkpoint's ``model.zip``. The
    config of a zip is the ``.yaml`` of the same name beside it (as :mod:`~sb3_mario.run.export`
    writes it), else the ``config.yaml`` of the run folder it lies in (also from ``checkpoints/`` or
    ``eval/``); ``None`` when there is none.
    """
    source = Path(source)
    if source.is_dir():
        candidates = [source / "final_model.zip", source / "checkpoints" / "model.zip"]
        model = next((path for path in candidates if path.is_file()), None)
        if model is None:
            raise ConfigError(f"{source} holds no final_model.zip nor checkpoints/model.zip")
        configs = [source / CONFIG_FILE]
    else:
        model = source
        run_dir = source.parent.parent if source.parent.name in ("checkpoints", "eval") else source.parent
        configs = [source.with_suffix(".yaml"), run_dir / CONFIG_FILE]
    return model, next((path for path in configs if path.is_file()), None)


def model_config(model_path: str | Path) -> RunConfig:
    """The run config a model was trained with (see :func:`find_model`), or the default one."""
    _, config_path = find_model(model_path)
    if config_path is None:
        return resolve()
    return RunConfig.read(config_path)


def make_eval_env(
    config: RunConfig,
    *,
    noop_max: int | None = None,
    all_starts: bool = True,
    repeat_action_probability: float = 0.0,
    render_mode: str | None = None,
) -> gym.Env:
    """The one builder of evaluation envs: the run's training env with evaluation starts.

    The level and ``env_kwargs`` (action set, frames, no-progress limit) are the run's; the starts
    are the evaluation's own: ``noop_max`` no-op frames (the run's ``eval_noop_max`` by default),
    0, 1, ..., ``noop_max`` in turn with ``all_starts`` (so ``noop_max + 1`` greedy episodes give the
    exact win rate under random no-op starts; a run of several levels plays them in turn too, each for
    ``noop_max + 1`` episodes: :func:`count_starts`) or drawn at random; sticky actions only when
    ``repeat_action_probability`` asks for them, whatever training used; random actions only by the
    player's epsilon; never a replayed start.
    """
    noop_max = config.settings.eval_noop_max if noop_max is None else noop_max
    if noop_max < 0:
        raise ConfigError(f"noop_max must be >= 0, actual value: {noop_max}")
    kwargs = {
        **config.env_kwargs,
        "noop_max": noop_max,
        "noop_in_turn": all_starts,
        "repeat_action_probability": repeat_action_probability,
        "random_action_probability": 0.0,  # the evaluation's random actions are its epsilon
        "replay_start_probability": 0.0,  # every evaluation episode from the game's start
    }
    try:
        return make_mario_env(config.settings.level, render_mode=render_mode, **kwargs)
    except (ValueError, TypeError) as e:
        raise ConfigError(f"cannot build the evaluation env: {e}") from None


def count_starts(level: str, noop_max: int) -> int:
    """Episodes that play every start of ``make_eval_env(all_starts=True)`` once: ``noop_max + 1`` no-op
    counts on each level that ``level`` names.

    :raises ValueError: for an unknown level
    """
    return (noop_max + 1) * len(level_names(level))


def check_compatible(model: Any, env: Any, env_name: str) -> None:
    """Raise a ConfigError naming both sides when the model cannot play ``env``."""
    ours = (tuple(model.observation_space.shape), int(model.action_space.n))
    theirs = (tuple(env.observation_space.shape), int(env.action_space.n))
    if ours != theirs:
        raise ConfigError(
            f"the model expects observations {ours[0]} and {ours[1]} actions, but {env_name} gives "
            f"observations {theirs[0]} and {theirs[1]} actions (check --action-set and the frame settings)"
        )


@dataclass
class Episode:
    """One evaluation episode.

    ``q_estimate`` and ``discounted_return`` are means over the episode's states: the online
    network's Q-value of the action taken there, and the discounted return obtained from there to the
    episode's end (van Hasselt et al. 2016, Figure 3). After a truncation the return is unknown, so a
    truncated episode's return is only what it got before the cut: summaries leave such episodes out.
    ``steps_after_random`` counts the agent steps from the last action drawn at random (epsilon) to the
    episode's end: 0 when the last step's action was drawn, ``None`` when none was; ``last_random_action`` is that
    draw, ``(action drawn, action the player would have played)``.
    """

    reward: float
    length: int
    win: bool
    x_pos: int
    noops: int = 0
    truncated: bool = False
    q_estimate: float = float("nan")
    discounted_return: float = float("nan")
    level: str = ""
    steps_after_random: int | None = None
    last_random_action: tuple[int, int] | None = None


def discounted_returns(rewards: list[float], gamma: float) -> np.ndarray:
    """``G_t = r_t + gamma * G_{t+1}`` from each step to the end of the rewards."""
    returns = np.zeros(len(rewards))
    g = 0.0
    for t in reversed(range(len(rewards))):
        g = rewards[t] + gamma * g
        returns[t] = g
    return returns


def epsilon_draw(
    rng: np.random.Generator, epsilon: float, n_actions: int, own: int
) -> tuple[int, tuple[int, int] | None]:
    """The action played: with probability ``epsilon`` a uniformly random one, else ``own``; and the draw,
    ``(action drawn, own)``, when there was one. One coin, then an action when it falls, from ``rng``."""
    if epsilon > 0 and rng.random() < epsilon:
        drawn = int(rng.integers(n_actions))
        return drawn, (drawn, own)
    return own, None


class Player:
    """Pick actions greedily, or epsilon-greedily with its own seeded generator, and note the Q-value
    of each action taken.

    :param model: a DQN/DoubleDQN
    :param epsilon: probability of a uniformly random action (0: greedy)
    :param seed: seed of the epsilon draws
    :param network: the Q-network to play, of the model's architecture (default: the online network
        ``model.q_net``; ``model.q_net_average`` plays the average of its weights)
    """

    def __init__(self, model: Any, epsilon: float = 0.0, seed: int | None = None, network: Any = None):
        if not 0.0 <= epsilon <= 1.0:
            raise ConfigError(f"epsilon must be in [0, 1], actual value: {epsilon}")
        self.model = model
        self.network = network
        self.epsilon = epsilon
        self.rng = np.random.default_rng(seed)
        self.gamma = float(model.gamma)
        self.last_q = float("nan")
        #: ``(action drawn, action the network would have played)`` when the last action was drawn at random
        self.last_random: tuple[int, int] | None = None

    def q_values(self, obs: np.ndarray) -> np.ndarray:
        """The played network's Q-values of one observation (for the online network, what ``predict``
        takes the argmax of)."""
        import torch as th

        obs_tensor, _ = self.model.policy.obs_to_tensor(obs)
        network = self.model.q_net if self.network is None else self.network
        with th.no_grad():
            return network(obs_tensor)[0].cpu().numpy()

    def __call__(self, obs: np.ndarray) -> int:
        q = self.q_values(obs)
        action, self.last_random = epsilon_draw(self.rng, self.epsilon, len(q), int(np.argmax(q)))
        self.last_q = float(q[action])
        return action


class ConstantPlayer:
    """A baseline that needs no model: the same action at every step, or with ``epsilon`` a uniformly
    random one, drawn from its own seeded generator as :class:`Player` draws them. It has no value
    estimates (``last_q`` is NaN), and its discounted returns use ``gamma``.

    :param action: the action played
    :param n_actions: the env's number of actions, from which the random ones are drawn
    :param epsilon: probability of a uniformly random action (0: always ``action``)
    :param seed: seed of the epsilon draws
    :param gamma: discount of the episodes' discounted returns (NaN: none)
    """

    def __init__(
        self, action: int, n_actions: int, epsilon: float = 0.0, seed: int | None = None, gamma: float = float("nan")
    ):
        if not 0 <= action < n_actions:
            raise ConfigError(f"action must be in 0..{n_actions - 1}, actual value: {action}")
        if not 0.0 <= epsilon <= 1.0:
            raise ConfigError(f"epsilon must be in [0, 1], actual value: {epsilon}")
        self.action = action
        self.n_actions = n_actions
        self.epsilon = epsilon
        self.rng = np.random.default_rng(seed)
        self.gamma = gamma
        self.last_q = float("nan")
        self.last_random: tuple[int, int] | None = None  # as Player's

    def __call__(self, obs: np.ndarray) -> int:
        action, self.last_random = epsilon_draw(self.rng, self.epsilon, self.n_actions, self.action)
        return action


def play_episode(
    env: gym.Env, player: Player | ConstantPlayer, seed: int | None = None, on_frame: Any = None
) -> Episode:
    """Play one episode; ``on_frame(env)`` is called after the reset and after every step."""
    obs, reset_info = env.reset(seed=seed)
    noops = int(reset_info.get("noops", 0))
    if on_frame is not None:
        on_frame(env)
    rewards, estimates = [], []
    last_random, last_draw = None, None  # the step of the last action drawn at random, and the draw
    while True:
        obs, reward, terminated, truncated, info = env.step(player(obs))
        if player.last_random is not None:
            last_random, last_draw = len(rewards), player.last_random
        rewards.append(float(reward))
        estimates.append(player.last_q)
        if on_frame is not None:
            on_frame(env)
        if terminated or truncated:
            return Episode(
                reward=sum(rewards),
                length=len(rewards),
                win=bool(info["is_success"]),
                x_pos=int(info["x_pos"]),
                noops=noops,
                truncated=bool(truncated and not terminated),
                q_estimate=float(np.mean(estimates)),
                discounted_return=float(np.mean(discounted_returns(rewards, player.gamma))),
                level=f"{info['world']}-{info['stage']}",
                steps_after_random=None if last_random is None else len(rewards) - 1 - last_random,
                last_random_action=last_draw,
            )


def play_episodes(
    env: gym.Env,
    player: Player | ConstantPlayer,
    n_episodes: int,
    seed: int | None = None,
    on_frame: Any = None,
    on_episode: Callable[[Episode], None] | None = None,
) -> list[Episode]:
    """The evaluation core: play ``n_episodes`` episodes on ``env``.

    The first reset takes ``seed``; later ones go on with the env's own random stream (as SB3's vec
    envs do), so the episodes of one call differ and the whole call repeats for the same seed.
    ``on_episode`` is called with each finished episode (progress reports).
    """
    if n_episodes <= 0:
        raise ConfigError(f"episodes must be positive, actual value: {n_episodes}")
    episodes = []
    for i in range(n_episodes):
        episodes.append(play_episode(env, player, seed if i == 0 else None, on_frame))
        if on_episode is not None:
            on_episode(episodes[-1])
    return episodes


#: Agent steps (of 4 frames) after an action drawn at random within which a lost episode counts as lost soon after
#: one: 0.8 s of play. A death in a pit ends the episode only once Mario has fallen out of the screen: most losses
#: of 1-1's epsilon tests came 4 to 9 agent steps after a random action (docs/results.md).
RANDOM_ACTION_WINDOW = 12

#: Width in x_pos of the stretches of the level that ``lost_at`` counts lost episodes in (a pit, a pipe or an enemy
#: spans one or two of them; 1-1's flag is at about 3,160).
LOST_AT_WIDTH = 100


def lost_at(episodes: list[Episode]) -> list[tuple[int, int]]:
    """Where the lost episodes ended: ``(start, count)`` for each stretch ``[start, start + LOST_AT_WIDTH)`` of
    final x_pos that ended some, the most frequent first (then from the level's start)."""
    counts = Counter(e.x_pos // LOST_AT_WIDTH * LOST_AT_WIDTH for e in episodes if not e.win)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def per_level(episodes: list[Episode]) -> dict[str, dict[str, float]] | None:
    """Episodes, wins and mean final x_pos per level played, in play order; ``None`` when all the
    episodes played one level (a run or model of several levels draws one at each episode)."""
    levels = {e.level for e in episodes}
    if len(levels) < 2:
        return None
    table = {}
    for level in sorted(levels, key=parse_level):
        played = [e for e in episodes if e.level == level]
        table[level] = {
            "episodes": len(played),
            "wins": sum(e.win for e in played),
            "mean_x_pos": float(np.mean([e.x_pos for e in played])),
        }
    return table


def lost_after_random(episodes: list[Episode]) -> int | None:
    """How many lost episodes ended within :data:`RANDOM_ACTION_WINDOW` agent steps of an action drawn at
    random; ``None`` when no episode drew one (greedy play)."""
    if all(e.steps_after_random is None for e in episodes):
        return None
    return sum(
        1
        for e in episodes
        if not e.win and e.steps_after_random is not None and e.steps_after_random < RANDOM_ACTION_WINDOW
    )


def summarize(episodes: list[Episode], all_starts: bool = False) -> dict[str, Any]:
    """Win rate, reward, progress and length of some episodes; where the lost ones ended
    (:func:`lost_at`), and those of them cut short by a truncation (``stalled_at``); with
    ``all_starts``, the no-op counts of the starts lost; of the lost episodes, those that ended within
    :data:`RANDOM_ACTION_WINDOW` agent steps of an action drawn at random (``None`` when none was); the mean Q estimate
    and discounted return over the states of the episodes that ended without a truncation (see
    :class:`Episode`); the same per level when the episodes played several (:func:`per_level`)."""
    rewards = np.array([e.reward for e in episodes])
    ended = [e for e in episodes if not e.truncated]  # the return after a truncation is unknown
    states = sum(e.length for e in ended)
    return {
        "episodes": len(episodes),
        "win_rate": float(np.mean([e.win for e in episodes])),
        "wins": int(sum(e.win for e in episodes)),
        "mean_reward": float(rewards.mean()),
        "std_reward": float(rewards.std()),
        "mean_x_pos": float(np.mean([e.x_pos for e in episodes])),
        "mean_length": float(np.mean([e.length for e in episodes])),
        "lost_at": lost_at(episodes),
        # of those, the episodes cut short (a truncation: Mario stopped getting further, not a death)
        "stalled_at": lost_at([e for e in episodes if e.truncated]),
        "lost_starts": sorted({e.noops for e in episodes if not e.win}) if all_starts else None,
        # did the random actions kill Mario, or the states they led to? None where no action was random
        "lost_after_random": lost_after_random(episodes),
        # means over the states of the episodes that were not truncated, None without one
        "q_estimate": sum(e.q_estimate * e.length for e in ended) / states if ended else None,
        "discounted_return": sum(e.discounted_return * e.length for e in ended) / states if ended else None,
        "truncated": len(episodes) - len(ended),
        "per_level": per_level(episodes),
    }


@dataclass
class Bar:
    """The bar of "clears the level": greedy play wins every no-op start of the run's evaluations, and
    at least ``win_rate`` of ``episodes`` episodes with ``epsilon``, and of as many with sticky actions
    (``repeat_action_probability``), each from the game's start, as ``sb3-mario evaluate -n 100
    --epsilon 0.02 --seed S`` and ``--repeat-action-probability 0.25 --seed S`` play them, for ``seeds``
    seeds S in a row.

    One seed's 100 episodes are a noisy measure: a model that wins 90% of such episodes passes one seed's
    test about half the time, and the bar is asked of any seed. So each seed after the first plays both
    tests again, only once the seeds before it have passed.

    :param episodes: episodes of each of the two robustness tests
    :param epsilon: random actions, the tutorial's floor of exploration
    :param repeat_action_probability: sticky actions, 0.25 as in Machado et al. (2018) and ALE v5
    :param win_rate: wins needed in each test: 90 of 100
    :param seeds: seeds S, S + 1, ... with which both tests must reach ``win_rate``: 2, as a user checks a model
    """

    episodes: int = 100
    epsilon: float = 0.02
    repeat_action_probability: float = 0.25
    win_rate: float = 0.9
    seeds: int = 2

    def play(
        self,
        config: RunConfig,
        player: Callable[[float, int | None], Player | ConstantPlayer],
        seed: int | None = None,
    ) -> dict[str, dict[str, Any]]:
        """Play both robustness tests once with seed ``seed``: the summary of each (``"epsilon"``, ``"sticky"``).

        :param player: ``player(epsilon, seed)`` makes the player of a test
        """
        summaries = {}
        for name, epsilon, sticky in (("epsilon", self.epsilon, 0.0), ("sticky", 0.0, self.repeat_action_probability)):
            env = make_eval_env(config, noop_max=0, repeat_action_probability=sticky)
            try:
                episodes = play_episodes(
                    env, player(epsilon, seed_for(seed, "epsilon")), self.episodes, seed_for(seed, "play")
                )
            finally:
                env.close()
            summaries[name] = summarize(episodes)
        return summaries

    def check(self, model: Any, config: RunConfig, seed: int | None = None, network: Any = None) -> dict[str, Any]:
        """Play both robustness tests with seed ``seed``, then with the next seeds while they pass; return the
        lowest win rate of each test over the seeds played, the seeds played and whether the bar is met.

        :param network: the network to play (:class:`Player`'s; the online network by default)
        """
        rates: dict[str, float] = {}
        played = 0
        while played < self.seeds and all(rate >= self.win_rate for rate in rates.values()):
            this = None if seed is None else seed + played
            tests = self.play(config, lambda epsilon, s: Player(model, epsilon, s, network), this)
            for name, summary in tests.items():
                rate = summary["win_rate"]
                rates[f"{name}_win_rate"] = min(rate, rates.get(f"{name}_win_rate", rate))
            played += 1
        met = played == self.seeds and all(rate >= self.win_rate for rate in rates.values())
        return {**rates, "seeds": played, "met": met}


@dataclass
class PlaySettings:
    """What ``evaluate`` and ``record`` play; the model's run config gives the level and env otherwise."""

    level: str | None = setting(None, "level to play (default: the model's)")
    action_set: str | None = setting(None, "right_only, simple or complex (default: the model's)")
    episodes: int = setting(10, "episodes to play")
    epsilon: float = setting(0.0, "probability of a random action at each step; 0 plays greedily")
    noop_max: int = setting(0, "start episodes with 0..N no-op frames (30 in Mnih et al. 2015); 0: the game's start")
    all_starts: bool = setting(
        False,
        "play 0, 1, ..., N no-op frames in turn: N + 1 greedy episodes (per level, levels in turn) give the exact "
        "win rate",
    )
    repeat_action_probability: float = setting(
        0.0, "sticky actions: each frame repeats the last with this probability (0.25 in Machado et al. 2018)"
    )
    seed: int = setting(0, "seed of the env and the random actions (sb3_mario.run.seeding)")
    device: str = setting("auto", "torch device of the model")
    average: bool = setting(
        False, "play the model's moving average of its weights (trained with average_tau > 0), not its online network"
    )


def played_network(model: Any, average: bool) -> Any:
    """The model's online network, or with ``average`` its moving average of weights.

    :raises ConfigError: for ``average`` with a model that keeps none
    """
    if not average:
        return model.q_net
    if getattr(model, "q_net_average", None) is None:
        raise ConfigError(
            "this model keeps no average of its weights: it was trained with average_tau 0 (DoubleDQN's default); "
            "play its online network (without --average)"
        )
    return model.q_net_average


def play(
    model_path: str | Path,
    play: PlaySettings,
    render_mode: str | None = None,
    on_frame: Any = None,
    on_episode: Callable[[Episode], None] | None = None,
) -> list[Episode]:
    """Load a model (a zip, or a run folder's model: :func:`find_model`) and play ``play.episodes``
    episodes on its run's evaluation env.

    :raises ConfigError: for a missing or broken model, or one that does not fit the env
    """
    if play.all_starts and play.noop_max <= 0:
        raise ConfigError(f"all_starts needs noop_max > 0, actual value: {play.noop_max}")
    model = load_model(find_model(model_path)[0], play.device)
    config = model_config(model_path)
    env_kwargs = {**config.env_kwargs, **({"action_set": play.action_set} if play.action_set else {})}
    config = with_overrides(config, {"env_kwargs": env_kwargs}, {"level": play.level})
    env = make_eval_env(
        config,
        noop_max=play.noop_max,
        all_starts=play.all_starts,
        repeat_action_probability=play.repeat_action_probability,
        render_mode=render_mode,
    )
    try:
        action_set = action_set_of(config.env_kwargs)
        check_compatible(model, env, f"level {config.settings.level} with action set {action_set}")
        player = Player(model, play.epsilon, seed_for(play.seed, "epsilon"), played_network(model, play.average))
        return play_episodes(env, player, play.episodes, seed_for(play.seed, "play"), on_frame, on_episode)
    finally:
        env.close()


def evaluate(
    model_path: str | Path,
    play_settings: PlaySettings,
    output: str | Path | None = None,
    on_episode: Callable[[Episode], None] | None = None,
) -> dict[str, Any]:
    """Play the episodes of ``play_settings`` and return (and optionally write as JSON) the summary.

    The emulator is deterministic: greedy episodes from the same start repeat exactly. Use
    ``epsilon`` (e.g. 0.02, the training floor), ``repeat_action_probability`` (0.25) or
    ``noop_max`` (e.g. 30 random no-op frames at the start) to measure how robust the agent is; with
    ``all_starts`` each no-op count is played in turn, and ``lost_starts`` lists those lost.
    """
    if output is not None:  # before the episodes: their results must have somewhere to go
        Path(output).parent.mkdir(parents=True, exist_ok=True)
    model_file = find_model(model_path)[0]  # a run folder's model: the zip played, named in the summary
    results = play(model_file, play_settings, on_episode=on_episode)
    summary = {
        "model": str(model_file),
        **asdict(play_settings),
        **summarize(results, play_settings.all_starts),
        "per_episode": [asdict(e) for e in results],
    }
    if output is not None:
        Path(output).write_text(json.dumps(summary, indent=2))
    return summary


def _stretches(counts: list[tuple[int, int]]) -> str:
    return ", ".join(f"{start}-{start + LOST_AT_WIDTH - 1}: {count}" for start, count in counts)


def format_summary(summary: dict[str, Any]) -> str:
    """The summary as a small aligned table."""
    rows = [
        ("episodes", f"{summary['episodes']}"),
        ("win rate", f"{100 * summary['win_rate']:.1f} % ({summary['wins']} won)"),
        ("reward", f"{summary['mean_reward']:.1f} +/- {summary['std_reward']:.1f}"),
        ("final x_pos", f"{summary['mean_x_pos']:.0f}"),
        ("length", f"{summary['mean_length']:.0f} steps"),
    ]
    n = summary["noop_max"]
    noops = f"each of 0..{n} no-op frames in turn" if summary["all_starts"] else f"up to {n} no-op frames"
    sticky = summary.get("repeat_action_probability", 0.0)
    rows.append(("start", f"epsilon {summary['epsilon']}, {noops}, sticky actions {sticky}"))
    if summary["q_estimate"] is not None:
        rows.append(
            (
                "Q estimate",
                f"{summary['q_estimate']:.1f}, discounted return {summary['discounted_return']:.1f} "
                f"(states of the {summary['episodes'] - summary['truncated']} episodes not truncated)",
            )
        )
    if summary["lost_at"]:
        rows.append(("lost at", f"x_pos {_stretches(summary['lost_at'])} (episodes lost, by final x_pos)"))
    if summary["stalled_at"]:
        rows.append(("stalled at", f"x_pos {_stretches(summary['stalled_at'])} (of those, cut short without dying)"))
    lost = summary["episodes"] - summary["wins"]
    if summary.get("lost_after_random") is not None and lost:
        rows.append(
            (
                "after random",
                f"{summary['lost_after_random']} of the {lost} lost ended within {RANDOM_ACTION_WINDOW} steps of an "
                "action drawn at random",
            )
        )
    for level, row in (summary.get("per_level") or {}).items():
        rows.append((f"level {level}", f"{row['wins']} of {row['episodes']} won, final x_pos {row['mean_x_pos']:.0f}"))
    if summary["all_starts"]:
        rows.append(("lost starts", f"{', '.join(map(str, summary['lost_starts'])) or 'none'} (no-op frames)"))
    return "\n".join(f"{name:<12} {value}" for name, value in rows)
