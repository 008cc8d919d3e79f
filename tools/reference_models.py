"""PyTorch reference models for the families mlrc runs, with the parameter names of
docs/ARCHITECTURES.md (the checkpoint contract). Used to write test fixtures and benchmarks."""
import torch
import torch.nn as nn
import torch.nn.functional as F

CONVNEXT_SIZES = {
    "atto": ([2, 2, 6, 2], [40, 80, 160, 320]),
    "femto": ([2, 2, 6, 2], [48, 96, 192, 384]),
    "pico": ([2, 2, 6, 2], [64, 128, 256, 512]),
    "nano": ([2, 2, 8, 2], [80, 160, 320, 640]),
    "tiny": ([3, 3, 9, 3], [96, 192, 384, 768]),
    "small": ([3, 3, 27, 3], [96, 192, 384, 768]),
    "base": ([3, 3, 27, 3], [128, 256, 512, 1024]),
}


class LayerNorm2d(nn.Module):
    """LayerNorm over channels of an NCHW tensor (ConvNeXt's channels_first LayerNorm)."""

    def __init__(self, c, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(c))
        self.bias = nn.Parameter(torch.zeros(c))
        self.eps = eps

    def forward(self, x):
        u = x.mean(1, keepdim=True)
        s = (x - u).pow(2).mean(1, keepdim=True)
        x = (x - u) / torch.sqrt(s + self.eps)
        return self.weight[:, None, None] * x + self.bias[:, None, None]


class ConvNeXtBlock(nn.Module):
    def __init__(self, dim, strip_k=None):
        super().__init__()
        if strip_k:
            self.dwconv_v = nn.Conv2d(dim, dim, (strip_k, 1), padding=(strip_k // 2, 0), groups=dim)
            self.dwconv_h = nn.Conv2d(dim, dim, (1, strip_k), padding=(0, strip_k // 2), groups=dim)
        else:
            self.dwconv = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.strip = bool(strip_k)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pwconv1 = nn.Linear(dim, 4 * dim)
        self.act = nn.GELU()
        self.pwconv2 = nn.Linear(4 * dim, dim)
        self.gamma = nn.Parameter(1e-6 * torch.ones(dim))

    def forward(self, x):
        y = self.dwconv_h(F.gelu(self.dwconv_v(x))) if self.strip else self.dwconv(x)
        y = y.permute(0, 2, 3, 1)
        y = self.pwconv2(self.act(self.pwconv1(self.norm(y))))
        y = (self.gamma * y).permute(0, 3, 1, 2)
        return x + y


class ConvNeXt(nn.Module):
    """ConvNeXt (official naming). mlrc=True gives MLRC-ConvNeXt: strip depthwise convs and stage shortcuts."""

    def __init__(self, depths, dims, num_classes=1000, mlrc=False, strip_k=3, stage_shortcut=None):
        super().__init__()
        self.stage_shortcut = mlrc if stage_shortcut is None else stage_shortcut
        self.downsample_layers = nn.ModuleList()
        self.downsample_layers.append(nn.Sequential(nn.Conv2d(3, dims[0], 4, stride=4), LayerNorm2d(dims[0])))
        for i in range(3):
            self.downsample_layers.append(nn.Sequential(LayerNorm2d(dims[i]), nn.Conv2d(dims[i], dims[i + 1], 2, stride=2)))
        self.stages = nn.ModuleList(
            nn.Sequential(*[ConvNeXtBlock(dims[i], strip_k if mlrc else None) for _ in range(depths[i])]) for i in range(4))
        self.norm = nn.LayerNorm(dims[-1], eps=1e-6)
        self.head = nn.Linear(dims[-1], num_classes)

    def forward(self, x):
        for i in range(4):
            s = self.downsample_layers[i](x)
            x = self.stages[i](s) + s if self.stage_shortcut else self.stages[i](s)
        return self.head(self.norm(x.mean([-2, -1])))


def randomize_(model, seed):
    """Non-trivial weights and BN statistics (fresh-init gamma=1e-6 / BN identity would hide bugs)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("gamma"):
                p.copy_(0.5 + 0.5 * torch.rand(p.shape, generator=g))
            elif p.dim() == 1:
                p.copy_((1.0 if name.endswith("weight") else 0.0) + 0.2 * torch.randn(p.shape, generator=g))
            else:
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=g) * (1.5 / fan_in) ** 0.5)
        for name, b in model.named_buffers():
            if name.endswith("running_mean"):
                b.copy_(0.1 * torch.randn(b.shape, generator=g))
            elif name.endswith("running_var"):
                b.copy_(0.5 + torch.rand(b.shape, generator=g))
    return model


# ---------------------------------------------------------------- HSNet

def bn(c):
    return nn.BatchNorm2d(c)


class GhostModule(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        half = cout // 2
        self.primary = nn.Conv2d(cin, half, 1, bias=False)
        self.primary_bn = bn(half)
        self.cheap = nn.Conv2d(half, half, 3, padding=1, groups=half, bias=False)
        self.cheap_bn = bn(half)

    def forward(self, x):
        p = F.relu(self.primary_bn(self.primary(x)))
        c = F.relu(self.cheap_bn(self.cheap(p)))
        return torch.cat([p, c], 1)


class HetConv(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.gwc = nn.Conv2d(cin, cout, 3, padding=1, groups=4, bias=False)
        self.ghost = GhostModule(cin, cout)

    def forward(self, x):
        return self.gwc(x) + self.ghost(x)


class ECA(nn.Module):
    def __init__(self, k=3):
        super().__init__()
        self.conv = nn.Conv1d(1, 1, k, padding=k // 2, bias=False)

    def forward(self, x):
        y = x.mean([2, 3])  # N, C
        y = torch.sigmoid(self.conv(y.unsqueeze(1))).squeeze(1)
        return x * y[:, :, None, None]


class ResHetA(nn.Module):
    def __init__(self, c, eca):
        super().__init__()
        self.het1, self.bn1 = HetConv(c, c), bn(c)
        self.het2, self.bn2 = HetConv(c, c), bn(c)
        self.eca = ECA() if eca else None

    def forward(self, x):
        y = self.bn2(self.het2(F.relu(self.bn1(self.het1(x)))))
        if self.eca is not None:
            y = self.eca(y)
        return F.relu(x + y)


class Shortcut(nn.Module):
    def __init__(self, cin, c):
        super().__init__()
        self.pool = nn.AvgPool2d(2, 2)
        self.conv = nn.Conv2d(cin, c, 1, bias=False)
        self.bn = bn(c)

    def forward(self, x):
        return self.bn(self.conv(self.pool(x)))


class ResHetB(nn.Module):
    def __init__(self, cin, c):
        super().__init__()
        self.dw = nn.Conv2d(cin, cin, 3, stride=2, padding=1, groups=cin, bias=False)
        self.dw_bn = bn(cin)
        self.het1, self.bn1 = HetConv(cin, c), bn(c)
        self.het2, self.bn2 = HetConv(c, c), bn(c)
        self.shortcut = Shortcut(cin, c)

    def forward(self, x):
        y = self.dw_bn(self.dw(x))
        y = self.bn2(self.het2(F.relu(self.bn1(self.het1(y)))))
        return F.relu(y + self.shortcut(x))


class SepBranch(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dw = nn.Conv2d(c, c, 3, padding=1, groups=c, bias=False)
        self.dw_bn = bn(c)
        self.pw = nn.Conv2d(c, c, 1, bias=False)
        self.pw_bn = bn(c)

    def forward(self, x):
        return F.relu(self.pw_bn(self.pw(self.dw_bn(self.dw(x)))))


class Stem(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, stride=2, padding=1, bias=False)
        self.bn = bn(16)
        self.sep = SepBranch(16)

    def forward(self, x):
        x = F.relu(self.bn(self.conv(x)))
        return torch.cat([self.sep(x), F.max_pool2d(x, 3, 1, 1)], 1)


class Head(nn.Module):
    def __init__(self, c, hidden=1280):
        super().__init__()
        self.conv = nn.Conv2d(c, hidden, 1, bias=False)
        self.bn = bn(hidden)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class HSNet(nn.Module):
    def __init__(self, num_classes=1000, widths=(32, 64, 176, 400), depths=(2, 2, 3, 1), head=1280):
        super().__init__()
        self.stem = Stem()
        stages, cin = [], 32
        for i, (c, d) in enumerate(zip(widths, depths)):
            blocks = [ResHetB(cin, c)] + [ResHetA(c, eca=i < 3) for _ in range(d - 1)]
            stages.append(nn.Sequential(*blocks))
            cin = c
        self.stages = nn.Sequential(*stages)
        self.head = Head(cin, head)
        self.fc = nn.Linear(head, num_classes)

    def forward(self, x):
        x = self.head(self.stages(self.stem(x)))
        return self.fc(x.mean([2, 3]))


def efficientnet_lite(name="efficientnet-lite0", num_classes=1000):
    from efficientnet_lite_pytorch import EfficientNet
    return EfficientNet.from_name(name, num_classes=num_classes)


if __name__ == "__main__":
    m = HSNet().eval()
    print("HSNet params %.3f M" % (sum(p.numel() for p in m.parameters()) / 1e6))
    macs = 0

    def hook(mod, inp, out):
        global macs
        if isinstance(mod, nn.Conv2d):
            macs += out.numel() * mod.weight[0].numel()
        elif isinstance(mod, nn.Linear):
            macs += mod.weight.numel()
    for mod in m.modules():
        mod.register_forward_hook(hook)
    m(torch.zeros(1, 3, 224, 224))
    print("HSNet MACs %.1f M" % (macs / 1e6))
