"""Export a trained model for playing: the weights without the optimizer's state, with its config."""

from __future__ import annotations

import shutil
from pathlib import Path

from sb3_mario.run.evaluation import find_model, load_model, played_network

ROLLOUT_STATE = ("_last_obs", "_last_original_obs", "_last_episode_starts", "ep_info_buffer", "ep_success_buffer")
"""What ``learn()`` keeps between rollouts: the envs' last observations and recent episode stats. SB3's
``load(env=...)`` resets the env and these anyway, so an exported model leaves them out."""


def export_model(source: str | Path, output: str | Path, average: bool = False) -> tuple[Path, Path | None]:
    """Write ``output`` (a model zip) and, when the source run has one, ``output``'s ``.yaml`` config.

    The zip keeps everything SB3 needs to ``load`` and ``predict`` (both Q-networks and all
    hyperparameters); Adam's moment estimates, twice the size of the weights, and the rollout
    state (:data:`ROLLOUT_STATE`) are dropped. Fine-tuning the exported model therefore restarts
    Adam's statistics.

    :param source: a model zip, or a run folder (see :func:`find_model`)
    :param output: path of the exported zip
    :param average: export the model's moving average of weights (``average_tau > 0``) as both its
        networks, without the average itself: a plain model, which ``DQN.load`` reads too
    :return: the paths written
    :raises ConfigError: for ``average`` with a model that keeps no average
    """
    from sb3_mario.agent.overlap import copy_weights

    model_path, config = find_model(source)
    model = load_model(model_path, device="cpu")
    if average:
        network = played_network(model, average=True)
        for target in (model.q_net, model.q_net_target):
            copy_weights(network, target)
        model.q_net_average, model.average_tau = None, 0.0
    model.policy.optimizer.state.clear()  # Adam starts its moments again on the next step
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    model.save(output, exclude=list(ROLLOUT_STATE))
    config_out = None
    if config is not None:
        config_out = output.with_suffix(".yaml")
        shutil.copyfile(config, config_out)
    return output, config_out
