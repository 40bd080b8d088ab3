# The PyTorch yardstick for `npm run bench:train -- --vs-torch` (train-vs-torch.ts): the bench's
# Llama in plain PyTorch, trained the way Skillet trains it, timed per optimizer step.
#
# Same computation as the Skillet trainer: RMSNorm (eps 1e-5), rotary embeddings (theta 1e4,
# HF's rotate-half layout), causal softmax attention with grouped KV heads, SwiGLU MLP, untied
# LM head, cross-entropy over every position but the last, fp32. LoRA: y = x·Wᵀ +
# B(A(dropout(x)))·alpha/r on the projections named in --targets, base frozen; full: every weight
# trains. AdamW (betas 0.9/0.999, eps 1e-8, no weight decay), gradients clipped to norm 1.
# No dependency of the project: run only when python3 can import torch.
# Written for torch 1.13 (Debian 12's python3-torch), so not test/bench/gpu/torch_yardstick.py,
# which needs torch >= 2.5 (nn.RMSNorm, scaled_dot_product_attention with enable_gqa) for GPUs.
#
#   python3 torch_llama_steps.py --method lora --threads 1 --warmup 2 --steps 7 [shape flags]
# prints one JSON line: {"threads", "ms": [per measured step], "torch": version}
import argparse
import json
import math
import time

import torch
import torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument('--method', choices=['lora', 'full'], required=True)
p.add_argument('--threads', type=int, required=True)
p.add_argument('--warmup', type=int, default=2)
p.add_argument('--steps', type=int, default=7)
p.add_argument('--dim', type=int, default=256)
p.add_argument('--layers', type=int, default=4)
p.add_argument('--heads', type=int, default=4)
p.add_argument('--kv-heads', type=int, default=4)
p.add_argument('--inter', type=int, default=512)
p.add_argument('--vocab', type=int, default=512)
p.add_argument('--seq', type=int, default=128)
p.add_argument('--batch', type=int, default=8)
p.add_argument('--rank', type=int, default=8)
p.add_argument('--alpha', type=float, default=16)
p.add_argument('--dropout', type=float, default=0.05)
p.add_argument('--targets', default='q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj')
p.add_argument('--lr', type=float, default=1e-4)
args = p.parse_args()

torch.set_num_threads(args.threads)
torch.manual_seed(0)
D, H, KV, I, V, T, B = args.dim, args.heads, args.kv_heads, args.inter, args.vocab, args.seq, args.batch
Dh = D // H
targets = set(args.targets.split(',')) if args.method == 'lora' else set()


class Linear(torch.nn.Module):
    """nn.Linear without bias, with an optional LoRA branch (PEFT's order: dropout, A, B, scale)."""

    def __init__(self, n_in, n_out, lora):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.randn(n_out, n_in) * 0.05)
        self.lora = lora
        if lora:
            self.weight.requires_grad_(False)
            self.A = torch.nn.Parameter(torch.randn(args.rank, n_in) / math.sqrt(n_in))
            self.B = torch.nn.Parameter(torch.zeros(n_out, args.rank))
            self.scale = args.alpha / args.rank

    def forward(self, x):
        y = F.linear(x, self.weight)
        if self.lora:
            y = y + F.linear(F.linear(F.dropout(x, args.dropout, self.training), self.A), self.B) * self.scale
        return y


class RMSNorm(torch.nn.Module):
    def __init__(self, d):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(d))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * self.weight


inv_freq = 1.0 / (10000 ** (torch.arange(0, Dh, 2).float() / Dh))
angles = torch.outer(torch.arange(T).float(), inv_freq)
cos = torch.cat([angles.cos(), angles.cos()], -1)
sin = torch.cat([angles.sin(), angles.sin()], -1)


def rope(x):
    x1, x2 = x[..., : Dh // 2], x[..., Dh // 2:]
    return x * cos + torch.cat([-x2, x1], -1) * sin


class Block(torch.nn.Module):
    def __init__(self):
        super().__init__()
        mk = lambda name, i, o: Linear(i, o, name in targets)
        self.q_proj, self.k_proj, self.v_proj = mk('q_proj', D, D), mk('k_proj', D, KV * Dh), mk('v_proj', D, KV * Dh)
        self.o_proj = mk('o_proj', D, D)
        self.gate_proj, self.up_proj, self.down_proj = mk('gate_proj', D, I), mk('up_proj', D, I), mk('down_proj', I, D)
        self.n1, self.n2 = RMSNorm(D), RMSNorm(D)

    def forward(self, x, mask):
        h = self.n1(x)
        q = rope(self.q_proj(h).view(B, T, H, Dh).transpose(1, 2))
        k = rope(self.k_proj(h).view(B, T, KV, Dh).transpose(1, 2))
        v = self.v_proj(h).view(B, T, KV, Dh).transpose(1, 2)
        if KV != H:
            k, v = k.repeat_interleave(H // KV, 1), v.repeat_interleave(H // KV, 1)
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(Dh) + mask
        a = (scores.softmax(-1) @ v).transpose(1, 2).reshape(B, T, D)
        x = x + self.o_proj(a)
        h = self.n2(x)
        return x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Parameter(torch.randn(V, D) * 0.05)
        self.blocks = torch.nn.ModuleList([Block() for _ in range(args.layers)])
        self.norm = RMSNorm(D)
        self.head = torch.nn.Parameter(torch.randn(V, D) * 0.05)
        if args.method == 'lora':
            for prm in [self.embed, self.head, self.norm.weight] + [w for b in self.blocks for w in (b.n1.weight, b.n2.weight)]:
                prm.requires_grad_(False)

    def forward(self, ids):
        mask = torch.full((T, T), float('-inf')).triu(1)
        x = self.embed[ids]
        for b in self.blocks:
            x = b(x, mask)
        return F.linear(self.norm(x), self.head)


model = Model().train()
params = [q for q in model.parameters() if q.requires_grad]
opt = torch.optim.AdamW(params, lr=args.lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
ids = torch.tensor([[(b * 31 + i * 7) % V for i in range(T)] for b in range(B)])
ms = []
for step in range(args.warmup + args.steps):
    start = time.perf_counter()
    logits = model(ids)
    loss = F.cross_entropy(logits[:, :-1].reshape(-1, V), ids[:, 1:].reshape(-1))
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    opt.step()
    elapsed = (time.perf_counter() - start) * 1000
    if step >= args.warmup:
        ms.append(elapsed)
print(json.dumps({'threads': torch.get_num_threads(), 'ms': ms, 'torch': torch.__version__, 'loss': loss.item()}))
