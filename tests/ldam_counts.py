"""The class counts of the LDAM-DRW code: the reference of the long-tailed datasets."""


def ldam_get_img_num_per_cls(img_max, cls_num, imb_type, imb_factor):
    """Transcription of `IMBALANCECIFAR10.get_img_num_per_cls` (LDAM-DRW code,
    github.com/kaidic/LDAM-DRW, imbalance_cifar.py), with `img_max` given."""
    img_num_per_cls = []
    if imb_type == "exp":
        for cls_idx in range(cls_num):
            num = img_max * (imb_factor ** (cls_idx / (cls_num - 1.0)))
            img_num_per_cls.append(int(num))
    elif imb_type == "step":
        for _cls_idx in range(cls_num // 2):
            img_num_per_cls.append(int(img_max))
        for _cls_idx in range(cls_num // 2):
            img_num_per_cls.append(int(img_max * imb_factor))
    else:
        img_num_per_cls.extend([int(img_max)] * cls_num)
    return img_num_per_cls
