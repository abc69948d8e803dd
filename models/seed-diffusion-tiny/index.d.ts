/** The folder that holds the model's files (config.json, model.safetensors, tokenizer.json). */
export declare const modelDir: string;
