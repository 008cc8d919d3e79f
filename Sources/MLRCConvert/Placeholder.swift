public enum MLRCConvertPlaceholder {}
