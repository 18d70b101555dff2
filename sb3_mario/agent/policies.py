"""The tutorial's Q-network as a SB3 features extractor and policy."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import torch as th
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from stable_baselines3.dqn.policies import CnnPolicy
from torch import nn


class MarioCNN(BaseFeaturesExtractor):
    """The convolutional trunk of the tutorial's ``DQNSolver``.

    Conv(32, 8x8, stride 4) - ReLU - Conv(64, 4x4, stride 2) - ReLU - Conv(64, 3x3, stride 1) - ReLU -
    flatten - Linear(512) - ReLU. With ``net_arch=[]`` SB3's ``QNetwork`` adds the tutorial's last
    layer, ``Linear(512, n_actions)``. This is also the network of Mnih et al. (2015), Nature.

    Inputs arrive scaled to [0, 1] by the policy (``normalize_images=True``), as the tutorial's
    ``ScaledFloatFrame`` did in the env.

    :param observation_space: (frames, height, width) image space, (4, 84, 84) by default
    :param features_dim: width of the last hidden layer, 512 as in the tutorial
    """

    def __init__(self, observation_space: gym.spaces.Box, features_dim: int = 512):
        super().__init__(observation_space, features_dim)
        n_input_channels = observation_space.shape[0]
        self.cnn = nn.Sequential(
            nn.Conv2d(n_input_channels, 32, kernel_size=8, stride=4),
            nn.ReLU(),
            nn.Conv2d(32, 64, kernel_size=4, stride=2),
            nn.ReLU(),
            nn.Conv2d(64, 64, kernel_size=3, stride=1),
            nn.ReLU(),
            nn.Flatten(),
        )
        with th.no_grad():
            n_flatten = self.cnn(th.zeros(1, *observation_space.shape)).shape[1]
        self.linear = nn.Sequential(nn.Linear(n_flatten, features_dim), nn.ReLU())

    def forward(self, observations: th.Tensor) -> th.Tensor:
        return self.linear(self.cnn(observations))


#: ``policy_kwargs`` that give ``CnnPolicy`` the tutorial's network (``net_arch=[]``: without it a
#: custom extractor gets two extra hidden layers of 64).
MARIO_POLICY_KWARGS: dict[str, Any] = {"features_extractor_class": MarioCNN, "net_arch": []}


#: Optimizers that take ``fused=True``: one kernel per step instead of one per tensor and operation.
FUSED_OPTIMIZERS = (th.optim.Adam, th.optim.AdamW)


class MarioCnnPolicy(CnnPolicy):
    """``CnnPolicy`` whose defaults are :data:`MARIO_POLICY_KWARGS`; works with ``DQN`` and ``DoubleDQN``.

    Its Adam is PyTorch's fused implementation (``optimizer_kwargs={"fused": True}`` added to those
    given, unless they set ``fused`` or ``foreach``): the same update, within float rounding, in one
    kernel, where torch's CPU default loops over the tensors in Python (2.9x faster per step on a
    2-core CPU, docs/benchmarks.md). It runs on CPU and CUDA tensors; give ``fused: false`` elsewhere.
    """

    def __init__(self, *args: Any, **kwargs: Any):
        for key, value in MARIO_POLICY_KWARGS.items():
            kwargs.setdefault(key, value)
        optimizer_kwargs = kwargs.get("optimizer_kwargs") or {}
        if kwargs.get("optimizer_class", th.optim.Adam) in FUSED_OPTIMIZERS and not {"fused", "foreach"} & set(
            optimizer_kwargs
        ):
            kwargs["optimizer_kwargs"] = {"fused": True, **optimizer_kwargs}
        super().__init__(*args, **kwargs)
