"""make_mario_vec_env: monitors, episode info and subprocesses."""

from __future__ import annotations

import numpy as np
import pytest

from sb3_mario import make_mario_vec_env

pytestmark = pytest.mark.needs_torch


@pytest.mark.parametrize("vec_env", ["dummy", "subproc"])
def test_episode_info_holds_win_and_final_position(vec_env: str):
    env = make_mario_vec_env(2, "1-1", seed=0, vec_env=vec_env)
    env.reset()
    episodes = []
    for _ in range(400):
        _, _, dones, infos = env.step(np.array([1, 1]))
        episodes += [info["episode"] for done, info in zip(dones, infos, strict=True) if done]
        if len(episodes) >= 2:
            break
    env.close()
    assert len(episodes) >= 2
    for episode in episodes:
        assert episode["is_success"] is False and (episode["world"], episode["stage"]) == (1, 1)
        assert 250 < episode["x_pos"] < 400 and episode["l"] > 0


def test_bad_vec_env_arguments():
    with pytest.raises(ValueError, match="unknown vec_env 'threads': valid values are dummy, subproc"):
        make_mario_vec_env(1, vec_env="threads")
    with pytest.raises(ValueError, match="n_envs must be >= 1, actual value: 0"):
        make_mario_vec_env(0)
    with pytest.raises(ValueError, match="unknown action set 'x'"):
        make_mario_vec_env(2, vec_env="subproc", env_kwargs={"action_set": "x"})
    # any argument of make_mario_env fails in the caller, not in a worker
    with pytest.raises(ValueError, match=r"replay_start_probability must be in \[0, 1\], actual value: 2"):
        make_mario_vec_env(2, "1-1,1-2", vec_env="subproc", env_kwargs={"replay_start_probability": 2})
    with pytest.raises(ValueError, match=r"repeat_action_probability must be in \[0, 1\), actual value: 1.5"):
        make_mario_vec_env(2, vec_env="subproc", env_kwargs={"repeat_action_probability": 1.5})
