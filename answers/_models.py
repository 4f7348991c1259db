"""Reference CNNs for QED pages: AlexNet, VGG-16, ResNet-18 and ResNet-50 in plain ``torch.nn``.

torchvision cannot be imported here, so pages that need a classic ImageNet network import it
from this module. Each model copies torchvision's definition layer by layer (same order, same
attribute names), so ``state_dict()`` keys and shapes are those of torchvision's checkpoints
(``features.0.weight``, ``classifier.1.weight``, ``layer1.0.downsample.0.weight``, ``fc.weight``).

The claims at the bottom check the models against torchvision's published parameter counts and
GFLOPS figures. They also show that those "GFLOPS" figures count multiply-accumulates (MACs),
not floating-point operations.
"""

import torch
from torch import nn


# --- AlexNet ------------------------------------------------------------------------------------
# torchvision/models/alexnet.py: the single-tower variant from "One weird trick" (64/192/384/256/256
# channels), not the two-GPU 96/256/384/384/256 network of the 2012 paper.


class AlexNet(nn.Module):
    def __init__(self, num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),  # (B, 64, 55, 55)
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),  # (B, 64, 27, 27)
            nn.Conv2d(64, 192, kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),  # (B, 192, 13, 13)
            nn.Conv2d(192, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),  # (B, 256, 6, 6)
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))  # identity at 224x224; fixes other sizes
        # Dropout comes *before* each hidden Linear, so the Linears sit at indices 1, 4, 6.
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.avgpool(self.features(x))  # (B, 256, 6, 6)
        return self.classifier(torch.flatten(x, 1))  # (B, num_classes)


def alexnet(num_classes: int = 1000) -> AlexNet:
    return AlexNet(num_classes=num_classes)


# --- VGG-16 -------------------------------------------------------------------------------------
# torchvision/models/vgg.py, configuration "D" without batch norm: 13 3x3 convs, 5 max-pools.

VGG16_CFG = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]


def make_layers(cfg: list, batch_norm: bool = False) -> nn.Sequential:
    layers: list[nn.Module] = []
    in_channels = 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers.append(nn.Conv2d(in_channels, v, kernel_size=3, padding=1))
            if batch_norm:
                layers.append(nn.BatchNorm2d(v))
            layers.append(nn.ReLU(inplace=True))
            in_channels = v
    return nn.Sequential(*layers)


class VGG(nn.Module):
    def __init__(
        self, features: nn.Module, num_classes: int = 1000, init_weights: bool = True, dropout: float = 0.5
    ) -> None:
        super().__init__()
        self.features = features  # (B, 512, 7, 7) at 224x224
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        # Dropout comes *after* each hidden ReLU, so the Linears sit at indices 0, 3, 6.
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),  # 25088 -> 4096: 102.8M of the 138.4M parameters
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),
        )
        if init_weights:
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    if m.bias is not None:
                        nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0, 0.01)
                    nn.init.constant_(m.bias, 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.avgpool(self.features(x))  # (B, 512, 7, 7)
        return self.classifier(torch.flatten(x, 1))  # (B, num_classes)


def vgg16(num_classes: int = 1000) -> VGG:
    return VGG(make_layers(VGG16_CFG), num_classes=num_classes)


# --- ResNet-18 / ResNet-50 ----------------------------------------------------------------------
# torchvision/models/resnet.py, without the groups/dilation/norm_layer options (ResNeXt, wide and
# dilated variants), which change nothing for these two networks.


def conv3x3(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    # No bias: the BatchNorm that follows has its own shift.
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)


def conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None) -> None:
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    # 1x1 reduce -> 3x3 -> 1x1 expand (x4). The stride sits on the 3x3 conv (conv2), as in
    # torchvision ("ResNet V1.5"); the paper (V1) puts it on the first 1x1 conv.
    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None) -> None:
        super().__init__()
        self.conv1 = conv1x1(inplanes, planes)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = conv1x1(planes, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class ResNet(nn.Module):
    def __init__(
        self,
        block: type[BasicBlock | Bottleneck],
        layers: list[int],
        num_classes: int = 1000,
        zero_init_residual: bool = False,
    ) -> None:
        super().__init__()
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)  # (B, 64, 112, 112)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)  # (B, 64, 56, 56)
        self.layer1 = self._make_layer(block, 64, layers[0])  # (B, 64 * expansion, 56, 56)
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2)  # (B, 128 * expansion, 28, 28)
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2)  # (B, 256 * expansion, 14, 14)
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2)  # (B, 512 * expansion, 7, 7)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        if zero_init_residual:
            # Each residual branch then starts at zero and the block at the identity.
            for m in self.modules():
                if isinstance(m, Bottleneck):
                    nn.init.constant_(m.bn3.weight, 0)
                elif isinstance(m, BasicBlock):
                    nn.init.constant_(m.bn2.weight, 0)

    def _make_layer(self, block: type[BasicBlock | Bottleneck], planes: int, blocks: int, stride: int = 1) -> nn.Sequential:
        downsample = None
        # A projection shortcut (1x1 conv + BN) only where the shape changes: the first block of a
        # stage that strides, and ResNet-50's layer1 (64 -> 256 channels).
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                conv1x1(self.inplanes, planes * block.expansion, stride),
                nn.BatchNorm2d(planes * block.expansion),
            )
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))  # (B, 64, 56, 56)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))  # (B, 512 * expansion, 7, 7)
        x = torch.flatten(self.avgpool(x), 1)  # (B, 512 * expansion)
        return self.fc(x)  # (B, num_classes)


def resnet18(num_classes: int = 1000) -> ResNet:
    return ResNet(BasicBlock, [2, 2, 2, 2], num_classes=num_classes)


def resnet50(num_classes: int = 1000) -> ResNet:
    return ResNet(Bottleneck, [3, 4, 6, 3], num_classes=num_classes)


# --- Counting -----------------------------------------------------------------------------------


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def count_flops(model: nn.Module, x: torch.Tensor | tuple[int, ...] = (1, 3, 224, 224)) -> int:
    """FlopCounterMode's total for one forward pass of ``model`` on ``x`` (a tensor, or a shape to fill):
    2 FLOPs per multiply-accumulate of the convolutions and matmuls; element-wise ops (BN, ReLU,
    pooling, residual adds) count zero. First written for convolution/depthwise_separable_convolution.py,
    shared here since the convolution and pooling proofs use it too."""
    from torch.utils.flop_counter import FlopCounterMode

    if not isinstance(x, torch.Tensor):
        x = torch.empty(x, device=next(model.parameters()).device)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(x)
    return counter.get_total_flops()


# --- Claims -------------------------------------------------------------------------------------
# torchvision's published figures for its ImageNet-1K weights (IMAGENET1K_V1):
#   docs model pages, "num_params" and "GFLOPS" rows:
#     https://pytorch.org/vision/stable/models/generated/torchvision.models.alexnet.html
#     https://pytorch.org/vision/stable/models/generated/torchvision.models.vgg16.html
#     https://pytorch.org/vision/stable/models/generated/torchvision.models.resnet18.html
#     https://pytorch.org/vision/stable/models/generated/torchvision.models.resnet50.html
#   source, the Weights meta fields "num_params" and "_ops" in torchvision/models/alexnet.py,
#   vgg.py and resnet.py (`_ops`: 0.714, 15.47, 1.814, 4.089; the docs print them to 2 decimals:
#   0.71, 15.47, 1.81, 4.09). "_ops" was added by https://github.com/pytorch/vision/pull/6936.
PUBLISHED = {
    # name: (builder, num_params, _ops in "GFLOPS")
    "alexnet": (alexnet, 61_100_840, 0.714),
    "vgg16": (vgg16, 138_357_544, 15.47),
    "resnet18": (resnet18, 11_689_512, 1.814),
    "resnet50": (resnet50, 25_557_032, 4.089),
}


def _on_meta(builder) -> nn.Module:
    # Shapes without storage: VGG-16 on real tensors would allocate ~550 MB and take seconds.
    with torch.device("meta"):
        return builder()


def test_parameter_counts_equal_torchvision_num_params():
    """Each model has exactly torchvision's published number of parameters."""
    for name, (builder, num_params, _) in PUBLISHED.items():
        actual = count_parameters(_on_meta(builder))
        assert actual == num_params, f"{name}: {actual:,} parameters, torchvision publishes {num_params:,}"


def _macs_from_layer_shapes(model: nn.Module, input_size=(1, 3, 224, 224)) -> int:
    # Independent count: one multiply-accumulate per kernel weight per output element.
    macs = 0

    def hook(module, inputs, output):
        nonlocal macs
        if isinstance(module, nn.Conv2d):
            kh, kw = module.kernel_size
            macs += output.numel() * (module.in_channels // module.groups) * kh * kw
        elif isinstance(module, nn.Linear):
            macs += output.numel() * module.in_features

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        model(torch.empty(input_size, device="meta"))
    for handle in handles:
        handle.remove()
    return macs


def test_flop_counter_counts_two_flops_per_multiply_accumulate():
    """FlopCounterMode reports exactly twice the multiply-accumulates of the convs and Linears."""
    for name, (builder, _, _) in PUBLISHED.items():
        model = _on_meta(builder)
        actual = count_flops(model)
        expected = 2 * _macs_from_layer_shapes(model)
        assert actual == expected, f"{name}: FlopCounterMode {actual:,}, 2 x MACs {expected:,}"


def _vgg16_macs_by_hand() -> int:
    # Independent of the module's layers: the VGG paper's configuration D at 224x224, written out.
    # 3x3 convs at (spatial side, [(C_in, C_out), ...]); max-pools halve the side between stages.
    stages = [
        (224, [(3, 64), (64, 64)]),
        (112, [(64, 128), (128, 128)]),
        (56, [(128, 256), (256, 256), (256, 256)]),
        (28, [(256, 512), (512, 512), (512, 512)]),
        (14, [(512, 512), (512, 512), (512, 512)]),
    ]
    convs = sum(side * side * c_in * c_out * 9 for side, layers in stages for c_in, c_out in layers)
    linears = 512 * 7 * 7 * 4096 + 4096 * 4096 + 4096 * 1000
    return convs + linears


def test_published_gflops_are_multiply_accumulates():
    """torchvision's "GFLOPS" figures are billions of multiply-accumulates at 224x224: half the true FLOP count."""
    counted = {}
    for name, (builder, _, published) in PUBLISHED.items():
        flops = counted[name] = count_flops(_on_meta(builder))
        macs = flops // 2
        assert round(macs / 1e9, 3) == published, f"{name}: {macs / 1e9:.4f} GMACs, torchvision publishes {published}"
    # An independent count for VGG-16, by hand from the paper's layer table: 15,470,264,320 MACs, which
    # torchvision publishes as 15.47 "GFLOPS", while FlopCounterMode counts twice that many FLOPs.
    by_hand = _vgg16_macs_by_hand()
    assert round(by_hand / 1e9, 2) == PUBLISHED["vgg16"][2]
    assert counted["vgg16"] == 2 * by_hand


def test_forward_maps_an_imagenet_image_to_1000_logits():
    """A (1, 3, 224, 224) input gives (1, 1000) logits; num_classes changes only the last Linear."""
    for name, (builder, num_params, _) in PUBLISHED.items():
        model = _on_meta(builder)
        with torch.no_grad():
            y = model.eval()(torch.empty(1, 3, 224, 224, device="meta"))
        assert y.shape == (1, 1000), f"{name}: {tuple(y.shape)}"
        with torch.device("meta"):
            small = builder(num_classes=10)
        in_features = {"alexnet": 4096, "vgg16": 4096, "resnet18": 512, "resnet50": 2048}[name]
        assert count_parameters(small) == num_params - (1000 - 10) * (in_features + 1), name
    # Meta tensors only propagate shapes; one real CPU pass (the cheapest model; AlexNet's init
    # alone takes ~2 s, VGG-16 needs 550 MB) checks that the kernels run and give finite logits.
    torch.manual_seed(0)
    with torch.no_grad():
        y = resnet18().eval()(torch.randn(1, 3, 224, 224))
    assert y.shape == (1, 1000) and torch.isfinite(y).all()


def test_state_dict_layout_matches_torchvision_checkpoints():
    """The state_dict keys follow torchvision's layout: Linear indices, downsample placement and the V1.5 stride."""
    alex = _on_meta(alexnet).state_dict()
    assert [k for k in alex if k.startswith("classifier") and k.endswith("weight")] == [
        "classifier.1.weight", "classifier.4.weight", "classifier.6.weight",
    ]
    assert alex["features.0.weight"].shape == (64, 3, 11, 11)
    assert alex["classifier.1.weight"].shape == (4096, 256 * 6 * 6)

    vgg = _on_meta(vgg16).state_dict()
    assert [k for k in vgg if k.startswith("classifier") and k.endswith("weight")] == [
        "classifier.0.weight", "classifier.3.weight", "classifier.6.weight",
    ]
    assert vgg["features.28.weight"].shape == (512, 512, 3, 3)  # the 13th and last conv
    assert vgg["classifier.0.weight"].shape == (4096, 25088)

    r18, r50 = _on_meta(resnet18), _on_meta(resnet50)
    downsampled = lambda sd: sorted({k.split(".downsample")[0] for k in sd if ".downsample." in k})
    # ResNet-18's layer1 keeps 64 channels and stride 1, so it has no projection shortcut.
    assert downsampled(r18.state_dict()) == ["layer2.0", "layer3.0", "layer4.0"]
    assert downsampled(r50.state_dict()) == ["layer1.0", "layer2.0", "layer3.0", "layer4.0"]
    assert r50.state_dict()["layer1.0.downsample.0.weight"].shape == (256, 64, 1, 1)
    assert r50.state_dict()["layer1.0.downsample.1.running_var"].shape == (256,)
    assert r50.state_dict()["fc.weight"].shape == (1000, 2048)
    # ResNet V1.5: the 3x3 conv strides, the first 1x1 does not.
    assert r50.layer2[0].conv1.stride == (1, 1) and r50.layer2[0].conv2.stride == (2, 2)


# --- GoogLeNet (appended for the architectures pages) --------------------------------------------
# torchvision/models/googlenet.py without the auxiliary classifiers (aux_logits=False) and without
# transform_input. Every convolution is BasicConv2d (conv without bias, BN with eps=0.001, ReLU).
# torchvision's "5x5" branch uses a 3x3 kernel ("a known bug", pytorch/vision issue #906, kept for its
# checkpoints), so this network has fewer parameters than the paper's; answers/architectures/
# inception_block.py builds the paper's block.


class BasicConv2d(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, **kwargs) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, bias=False, **kwargs)
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.bn(self.conv(x)))


class Inception(nn.Module):
    def __init__(self, in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj) -> None:
        super().__init__()
        self.branch1 = BasicConv2d(in_channels, ch1x1, kernel_size=1)
        self.branch2 = nn.Sequential(
            BasicConv2d(in_channels, ch3x3red, kernel_size=1), BasicConv2d(ch3x3red, ch3x3, kernel_size=3, padding=1)
        )
        self.branch3 = nn.Sequential(  # kernel_size=3, as in torchvision (the paper: 5)
            BasicConv2d(in_channels, ch5x5red, kernel_size=1), BasicConv2d(ch5x5red, ch5x5, kernel_size=3, padding=1)
        )
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True), BasicConv2d(in_channels, pool_proj, kernel_size=1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C_in, H, W) -> (B, sum of widths, H, W)
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], dim=1)


class GoogLeNet(nn.Module):
    def __init__(self, num_classes: int = 1000, dropout: float = 0.2) -> None:
        super().__init__()
        self.conv1 = BasicConv2d(3, 64, kernel_size=7, stride=2, padding=3)  # (B, 64, 112, 112)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)  # (B, 64, 56, 56)
        self.conv2 = BasicConv2d(64, 64, kernel_size=1)
        self.conv3 = BasicConv2d(64, 192, kernel_size=3, padding=1)
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)  # (B, 192, 28, 28)
        self.inception3a = Inception(192, 64, 96, 128, 16, 32, 32)  # (B, 256, 28, 28)
        self.inception3b = Inception(256, 128, 128, 192, 32, 96, 64)  # (B, 480, 28, 28)
        self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)  # (B, 480, 14, 14)
        self.inception4a = Inception(480, 192, 96, 208, 16, 48, 64)
        self.inception4b = Inception(512, 160, 112, 224, 24, 64, 64)
        self.inception4c = Inception(512, 128, 128, 256, 24, 64, 64)
        self.inception4d = Inception(512, 112, 144, 288, 32, 64, 64)
        self.inception4e = Inception(528, 256, 160, 320, 32, 128, 128)  # (B, 832, 14, 14)
        self.maxpool4 = nn.MaxPool2d(2, stride=2, ceil_mode=True)  # (B, 832, 7, 7)
        self.inception5a = Inception(832, 256, 160, 320, 32, 128, 128)
        self.inception5b = Inception(832, 384, 192, 384, 48, 128, 128)  # (B, 1024, 7, 7)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(p=dropout)
        self.fc = nn.Linear(1024, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool1(self.conv1(x))
        x = self.maxpool2(self.conv3(self.conv2(x)))
        x = self.maxpool3(self.inception3b(self.inception3a(x)))
        for block in (self.inception4a, self.inception4b, self.inception4c, self.inception4d, self.inception4e):
            x = block(x)
        x = self.inception5b(self.inception5a(self.maxpool4(x)))  # (B, 1024, 7, 7)
        return self.fc(self.dropout(torch.flatten(self.avgpool(x), 1)))  # (B, num_classes)


def googlenet(num_classes: int = 1000) -> GoogLeNet:
    return GoogLeNet(num_classes=num_classes)


# torchvision's GoogLeNet_Weights.IMAGENET1K_V1 meta in torchvision/models/googlenet.py: "num_params"
# 6624904, "_ops" (GMACs) 1.498; the docs page torchvision.models.googlenet prints them as num_params
# 6624904 and GFLOPS 1.50 (https://pytorch.org/vision/stable/models/generated/torchvision.models.googlenet.html).
PUBLISHED_GOOGLENET = (6_624_904, 1.498)


def test_googlenet_matches_torchvision_num_params_and_ops():
    """GoogLeNet (no auxiliary heads) has torchvision's 6,624,904 parameters and 1.498 GMACs, and maps 224x224 to 1000 logits."""
    model = _on_meta(googlenet)
    assert count_parameters(model) == PUBLISHED_GOOGLENET[0]
    flops = count_flops(model)
    assert flops == 2 * _macs_from_layer_shapes(model)
    assert round(flops / 2 / 1e9, 3) == PUBLISHED_GOOGLENET[1]
    with torch.no_grad():
        assert model.eval()(torch.empty(1, 3, 224, 224, device="meta")).shape == (1, 1000)
    sd = model.state_dict()
    assert sd["inception3a.branch3.1.conv.weight"].shape == (32, 16, 3, 3)  # torchvision's 3x3 "5x5" branch
    assert sd["fc.weight"].shape == (1000, 1024)
