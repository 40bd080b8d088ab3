"""PyTorch yardstick for docs/gpu.md: the same Llama-style model sizes, method, batch and FLOP
count as test/bench/gpu/train-sizes.bench.ts (see sizes.ts), trained with torch on the same GPU.
Prints one JSON line like the TypeScript bench.

    python3 test/bench/gpu/torch_yardstick.py --size 150m --method lora [--precision fp32|tf32|bf16]

fp32 (default) disables TF32 so the comparison with the f32-only WebGPU path is like for like;
tf32 and bf16 show what the GPU gives a normal PyTorch run.
"""
import argparse, json, math, time
import torch
import torch.nn as nn
import torch.nn.functional as F

SIZES = {  # keep in step with sizes.ts
    "bench": dict(hidden=256, layers=4, heads=4, kv_heads=4, intermediate=512, vocab=512, seq=128, batch=8, rank=8),
    "135m": dict(hidden=576, layers=30, heads=9, kv_heads=3, intermediate=1536, vocab=49152, seq=512, batch=8, rank=8, tied=True),
    "150m": dict(hidden=768, layers=12, heads=12, kv_heads=12, intermediate=2304, vocab=32000, seq=512, batch=8, rank=8),
    "600m": dict(hidden=1536, layers=18, heads=12, kv_heads=12, intermediate=4096, vocab=32000, seq=512, batch=4, rank=8),
}


def step_flops(s, method):  # the count of sizes.ts, line for line
    N, R = s["batch"] * s["seq"], s["batch"] * (s["seq"] - 1)
    D, I = s["hidden"], s["intermediate"]
    q, kv = D, s["kv_heads"] * (D // s["heads"])
    proj = 2 * N * (2 * D * q + 2 * D * kv + 3 * D * I) * s["layers"]
    attn = 2 * 2 * s["batch"] * s["seq"] * s["seq"] * q * s["layers"]
    head = 2 * R * D * s["vocab"]
    lora = 0 if method == "full" else 2 * s["rank"] * ((D + q) * 2 + (D + kv) * 2 + (D + I) * 3) * N * s["layers"]
    backward = 2 * (proj + attn + head) if method == "full" else proj + 2 * attn + head + 2 * lora
    return proj + attn + head + lora + backward


class Linear(nn.Module):
    """x·Wᵀ (frozen for LoRA) plus (alpha/r)·x·Aᵀ·Bᵀ."""
    def __init__(self, i, o, rank):
        super().__init__()
        self.w = nn.Parameter(torch.randn(o, i) * 0.02)
        self.rank = rank
        if rank:
            self.w.requires_grad_(False)
            self.a = nn.Parameter(torch.randn(rank, i) / math.sqrt(i))
            self.b = nn.Parameter(torch.zeros(o, rank))

    def forward(self, x):
        y = x @ self.w.t()
        return y + 2.0 * ((x @ self.a.t()) @ self.b.t()) if self.rank else y


class Block(nn.Module):
    def __init__(self, s, rank):
        super().__init__()
        D, I, self.h, self.kv = s["hidden"], s["intermediate"], s["heads"], s["kv_heads"]
        self.dh = D // self.h
        self.n1, self.n2 = nn.RMSNorm(D, eps=1e-5), nn.RMSNorm(D, eps=1e-5)
        self.q, self.k, self.v, self.o = (Linear(D, self.h * self.dh, rank), Linear(D, self.kv * self.dh, rank),
                                          Linear(D, self.kv * self.dh, rank), Linear(self.h * self.dh, D, rank))
        self.gate, self.up, self.down = Linear(D, I, rank), Linear(D, I, rank), Linear(I, D, rank)

    def rope(self, x, cos, sin):
        x1, x2 = x.chunk(2, -1)
        return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], -1)

    def forward(self, x, cos, sin):
        B, T, _ = x.shape
        h = self.n1(x)
        q = self.rope(self.q(h).view(B, T, self.h, self.dh).transpose(1, 2), cos, sin)
        k = self.rope(self.k(h).view(B, T, self.kv, self.dh).transpose(1, 2), cos, sin)
        v = self.v(h).view(B, T, self.kv, self.dh).transpose(1, 2)
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=self.kv != self.h)
        x = x + self.o(a.transpose(1, 2).reshape(B, T, -1))
        m = self.n2(x)
        return x + self.down(F.silu(self.gate(m)) * self.up(m))


class Model(nn.Module):
    def __init__(self, s, rank):
        super().__init__()
        self.embed = nn.Embedding(s["vocab"], s["hidden"])
        self.blocks = nn.ModuleList(Block(s, rank) for _ in range(s["layers"]))
        self.norm = nn.RMSNorm(s["hidden"], eps=1e-5)
        self.head = nn.Linear(s["hidden"], s["vocab"], bias=False)
        if s.get("tied"):
            self.head.weight = self.embed.weight
        if rank:
            for p in [self.embed.weight, self.head.weight, self.norm.weight, *[p for b in self.blocks for p in (b.n1.weight, b.n2.weight)]]:
                p.requires_grad_(False)
        dh, T = s["hidden"] // s["heads"], s["seq"]
        inv = 1.0 / (10000 ** (torch.arange(0, dh, 2).float() / dh))
        ang = torch.outer(torch.arange(T).float(), inv)
        self.register_buffer("cos", ang.cos()[None, None], persistent=False)
        self.register_buffer("sin", ang.sin()[None, None], persistent=False)

    def forward(self, ids):
        x = self.embed(ids)
        for b in self.blocks:
            x = b(x, self.cos, self.sin)
        return self.head(self.norm(x))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="bench", choices=SIZES)
    ap.add_argument("--method", default="lora", choices=["lora", "full"])
    ap.add_argument("--precision", default="fp32", choices=["fp32", "tf32", "bf16"])
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    args = ap.parse_args()
    s = SIZES[args.size]
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = args.precision == "tf32"
    dev = torch.device("cuda")
    torch.manual_seed(0)
    model = Model(s, s["rank"] if args.method == "lora" else 0).to(dev)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-5, weight_decay=0.0)
    ids = torch.tensor([[(b * 31 + i * 7) % s["vocab"] for i in range(s["seq"])] for b in range(s["batch"])], device=dev)
    times = []
    for step in range(args.warmup + args.steps):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=args.precision == "bf16"):
            logits = model(ids)
            loss = F.cross_entropy(logits[:, :-1].reshape(-1, s["vocab"]).float(), ids[:, 1:].reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        loss.item()  # the TS trainer reads the loss every step too
        torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    ms = 1000 * sum(times[args.warmup:]) / args.steps
    print(json.dumps({
        "engine": f"torch-{torch.__version__}-{args.precision}", "gpu": torch.cuda.get_device_name(), "size": args.size,
        "method": args.method, "parameters": sum(p.numel() for p in model.parameters()), "batch": s["batch"], "seq": s["seq"],
        "msPerStep": round(ms, 1), "tokensPerSec": round(s["batch"] * s["seq"] / (ms / 1000)),
        "tflops": round(step_flops(s, args.method) / (ms * 1e9), 3),
    }))


if __name__ == "__main__":
    main()
