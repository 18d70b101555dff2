"""Export a trained model for playing: the weights without the optimizer's state, with its config."""

from __future__ import annotations

import shutil
from pathlib import Path

from sb3_mario.run.evaluation import find_model, load_model

ROLLOUT_STATE = ("_last_obs", "_last_original_obs", "_last_episode_starts", "ep_info_buffer", "ep_success_buffer")
"""What ``learn()`` keeps between rollouts: the envs' last observations and recent episode stats. SB3's
``load(env=...)`` resets the env and these anyway, so an exported model leaves them out."""


def export_model(source: str | Path, output: str | Path) -> tuple[Path, Path | None]:
    """Write ``output`` (a model zip) and, when the source run has one, ``output``'s ``.yaml`` config.

    The zip keeps everything SB3 needs to ``load`` and ``predict`` (both Q-networks and all
    hyperparameters); Adam's moment estimates, twice the size of the weights, and the rollout
    state (:data:`ROLLOUT_STATE`) are dropped. Fine-tuning the exported model therefore restarts
    Adam's statistics.

    :param source: a model zip, or a run folder (see :func:`find_model`)
    :param output: path of the exported zip
    :return: the paths written
    """
    model_path, config = find_model(source)
    model = load_model(model_path, device="cpu")
    model.policy.optimizer.state.clear()  # Adam starts its moments again on the next step
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    model.save(output, exclude=list(ROLLOUT_STATE))
    config_out = None
    if config is not None:
        config_out = output.with_suffix(".yaml")
        shutil.copyfile(config, config_out)
    return output, config_out
