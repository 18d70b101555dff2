"""The tutorial's own agent and training loop, kept as written for comparison (benchmarks only).

From "Play Super Mario Bros with a Double Deep Q-Network" (Paperspace): ``DQNSolver``, and
``DQNAgent`` with ``remember``/``recall``/``experience_replay`` storing float32 tensors for the
state and the next state. The env is sb3-mario's (same preprocessing), scaled to [0, 1] floats as
the tutorial's ``ScaledFloatFrame`` did.
"""

from __future__ import annotations

import random

import numpy as np
import torch
import torch.nn as nn


class DQNSolver(nn.Module):
    def __init__(self, input_shape, n_actions):
        super(DQNSolver, self).__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(input_shape[0], 32, kernel_size=8, stride=4),
            nn.ReLU(),
            nn.Conv2d(32, 64, kernel_size=4, stride=2),
            nn.ReLU(),
            nn.Conv2d(64, 64, kernel_size=3, stride=1),
            nn.ReLU(),
        )
        conv_out_size = self._get_conv_out(input_shape)
        self.fc = nn.Sequential(nn.Linear(conv_out_size, 512), nn.ReLU(), nn.Linear(512, n_actions))

    def _get_conv_out(self, shape):
        o = self.conv(torch.zeros(1, *shape))
        return int(np.prod(o.size()))

    def forward(self, x):
        conv_out = self.conv(x).view(x.size()[0], -1)
        return self.fc(conv_out)


class DQNAgent:
    def __init__(
        self,
        state_space,
        action_space,
        max_memory_size,
        batch_size,
        gamma,
        lr,
        exploration_max,
        exploration_min,
        exploration_decay,
        double_dq=True,
        device="cpu",
    ):
        self.state_space = state_space
        self.action_space = action_space
        self.double_dq = double_dq
        self.device = device
        if self.double_dq:
            self.local_net = DQNSolver(state_space, action_space).to(self.device)
            self.target_net = DQNSolver(state_space, action_space).to(self.device)
            self.optimizer = torch.optim.Adam(self.local_net.parameters(), lr=lr)
            self.copy = 5000  # Copy the local model weights into the target network every 5000 steps
            self.step = 0
        else:
            self.dqn = DQNSolver(state_space, action_space).to(self.device)
            self.optimizer = torch.optim.Adam(self.dqn.parameters(), lr=lr)
        self.max_memory_size = max_memory_size
        self.STATE_MEM = torch.zeros(max_memory_size, *self.state_space)
        self.ACTION_MEM = torch.zeros(max_memory_size, 1)
        self.REWARD_MEM = torch.zeros(max_memory_size, 1)
        self.STATE2_MEM = torch.zeros(max_memory_size, *self.state_space)
        self.DONE_MEM = torch.zeros(max_memory_size, 1)
        self.ending_position = 0
        self.num_in_queue = 0
        self.memory_sample_size = batch_size
        self.gamma = gamma
        self.l1 = nn.SmoothL1Loss().to(self.device)
        self.exploration_max = exploration_max
        self.exploration_rate = exploration_max
        self.exploration_min = exploration_min
        self.exploration_decay = exploration_decay

    def remember(self, state, action, reward, state2, done):
        self.STATE_MEM[self.ending_position] = state.float()
        self.ACTION_MEM[self.ending_position] = action.float()
        self.REWARD_MEM[self.ending_position] = reward.float()
        self.STATE2_MEM[self.ending_position] = state2.float()
        self.DONE_MEM[self.ending_position] = done.float()
        self.ending_position = (self.ending_position + 1) % self.max_memory_size  # FIFO tensor
        self.num_in_queue = min(self.num_in_queue + 1, self.max_memory_size)

    def recall(self):
        idx = random.choices(range(self.num_in_queue), k=self.memory_sample_size)
        STATE = self.STATE_MEM[idx].to(self.device)
        ACTION = self.ACTION_MEM[idx].to(self.device)
        REWARD = self.REWARD_MEM[idx].to(self.device)
        STATE2 = self.STATE2_MEM[idx].to(self.device)
        DONE = self.DONE_MEM[idx].to(self.device)
        return STATE, ACTION, REWARD, STATE2, DONE

    def act(self, state):
        if self.double_dq:
            self.step += 1
        if random.random() < self.exploration_rate:
            return torch.tensor([[random.randrange(self.action_space)]])
        if self.double_dq:
            return torch.argmax(self.local_net(state.to(self.device))).unsqueeze(0).unsqueeze(0).cpu()
        return torch.argmax(self.dqn(state.to(self.device))).unsqueeze(0).unsqueeze(0).cpu()

    def copy_model(self):
        self.target_net.load_state_dict(self.local_net.state_dict())

    def experience_replay(self):
        if self.double_dq and self.step % self.copy == 0:
            self.copy_model()
        if self.memory_sample_size > self.num_in_queue:
            return
        STATE, ACTION, REWARD, STATE2, DONE = self.recall()
        self.optimizer.zero_grad()
        if self.double_dq:
            target = REWARD + torch.mul((self.gamma * self.target_net(STATE2).max(1).values.unsqueeze(1)), 1 - DONE)
            current = self.local_net(STATE).gather(1, ACTION.long())
        else:
            target = REWARD + torch.mul((self.gamma * self.dqn(STATE2).max(1).values.unsqueeze(1)), 1 - DONE)
            current = self.dqn(STATE).gather(1, ACTION.long())
        loss = self.l1(current, target)
        loss.backward()
        self.optimizer.step()
        self.exploration_rate *= self.exploration_decay
        self.exploration_rate = max(self.exploration_rate, self.exploration_min)


def run(env, steps: int, device: str = "cpu") -> None:
    """The tutorial's ``run()`` loop for ``steps`` env steps (its episodes loop, cut by steps)."""
    agent = DQNAgent(
        state_space=env.observation_space.shape,
        action_space=env.action_space.n,
        max_memory_size=30000,
        batch_size=32,
        gamma=0.90,
        lr=0.00025,
        exploration_max=1.0,
        exploration_min=0.02,
        exploration_decay=0.99,
        device=device,
    )
    done_steps = 0
    while done_steps < steps:
        state, _ = env.reset()
        state = torch.Tensor(np.array([state]) / 255.0)
        while done_steps < steps:
            action = agent.act(state)
            state_next, reward, terminated, truncated, info = env.step(int(action[0]))
            terminal = terminated or truncated
            state_next = torch.Tensor(np.array([state_next]) / 255.0)
            reward = torch.tensor([reward]).unsqueeze(0)
            terminal_t = torch.tensor([int(terminal)]).unsqueeze(0)
            agent.remember(state, action, reward, state_next, terminal_t)
            agent.experience_replay()
            state = state_next
            done_steps += 1
            if terminal:
                break
