"""The models shipped in the package: each one's architecture, its config and a greedy episode to the flag on
each of its levels; picking the shipped model of a level."""

from __future__ import annotations

import pytest
import yaml

pytestmark = pytest.mark.needs_torch


def _shipped_levels() -> list[str]:
    from sb3_mario.models import SHIPPED_MODEL, shipped_models

    assert SHIPPED_MODEL.is_file(), f"{SHIPPED_MODEL} is missing from the package"
    return sorted(shipped_models())


@pytest.fixture(scope="module", params=_shipped_levels())
def shipped(request):
    """Each shipped model, with the level setting it was trained on."""
    from sb3_mario.models import shipped_model
    from sb3_mario.run.evaluation import load_model

    model = load_model(shipped_model(request.param), device="cpu")
    model.level = request.param
    return model


def test_shipped_model_is_the_tutorials_network_in_a_double_dqn(shipped):
    from torch import nn

    from sb3_mario import DoubleDQN
    from sb3_mario.agent.policies import MarioCNN

    assert type(shipped) is DoubleDQN
    assert shipped.observation_space.shape == (4, 84, 84)
    q_net = shipped.policy.q_net
    assert isinstance(q_net.features_extractor, MarioCNN)
    convs = [m for m in q_net.features_extractor.cnn if isinstance(m, nn.Conv2d)]
    assert [(c.out_channels, c.kernel_size, c.stride) for c in convs] == [
        (32, (8, 8), (4, 4)),
        (64, (4, 4), (2, 2)),
        (64, (3, 3), (1, 1)),
    ]
    head = list(q_net.q_net)
    n = shipped.action_space.n  # 5 with RIGHT_ONLY
    assert len(head) == 1 and (head[0].in_features, head[0].out_features) == (512, n)  # net_arch=[]
    # 4*32*64+32 + 32*64*16+64 + 64*64*9+64 + 3136*512+512 + 512*n+n
    assert sum(p.numel() for p in q_net.parameters()) == 1_684_128 + 513 * n
    assert shipped.policy.optimizer.state_dict()["state"] == {}  # exported: Adam's moments dropped


def test_shipped_config_names_the_algorithm_and_level():
    from sb3_mario.models import SHIPPED_MODEL

    doc = yaml.safe_load(SHIPPED_MODEL.with_suffix(".yaml").read_text())
    assert (doc["settings"]["algo"], doc["settings"]["level"]) == ("ddqn", "1-1")
    assert doc["hyperparams"]["policy"] == "MarioCnnPolicy"


def test_shipped_model_plays_greedily_to_the_flag_on_each_of_its_levels(shipped):
    from sb3_mario.env.levels import level_names
    from sb3_mario.models import shipped_model
    from sb3_mario.run.config import with_overrides
    from sb3_mario.run.evaluation import Player, make_eval_env, model_config, play_episode

    config = model_config(shipped_model(shipped.level))
    for level in level_names(shipped.level):
        # the first in-turn start has no no-op frame; the emulator is deterministic, so this is
        # exactly the episode docs/results.md reports for it
        env = make_eval_env(with_overrides(config, settings={"level": level}), noop_max=30, all_starts=True)
        episode = play_episode(env, Player(shipped), seed=0)
        env.close()
        assert episode.noops == 0
        assert episode.win, f"level {level}: lost at x_pos {episode.x_pos}"
        if level == "1-1":
            assert episode.x_pos >= 3161 and (episode.length, episode.reward) == (282, 3065.0)


def test_the_shipped_model_of_a_level_is_picked_by_its_name(tmp_path):
    from sb3_mario.models import SHIPPED_MODEL, shipped_model, shipped_models

    assert shipped_model() == shipped_model("1-1") == SHIPPED_MODEL
    for name in ("ddqn-1-2.zip", "ddqn-world-1.zip", "ddqn-1-2.yaml", "other.zip"):
        (tmp_path / name).write_bytes(b"")
    assert shipped_models(tmp_path) == {"1-2": tmp_path / "ddqn-1-2.zip", "world-1": tmp_path / "ddqn-world-1.zip"}
    assert shipped_model("1-2", tmp_path) == tmp_path / "ddqn-1-2.zip"


def test_a_level_without_a_shipped_model_is_refused_naming_those_with_one(tmp_path):
    from sb3_mario.errors import ConfigError
    from sb3_mario.models import shipped_model

    with pytest.raises(ConfigError, match=r"^no shipped model plays level 1-3: the levels with one are 1-1; pass"):
        shipped_model("1-3")
    with pytest.raises(ConfigError, match="the levels with one are none"):
        shipped_model(folder=tmp_path)
